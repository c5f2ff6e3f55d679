// Matrix products for the model: C[M,N] = A[M,K] · B[K,N] with B prepacked into 16-column panels
// (PackedMatrix). Work is split over output tiles on the pool; each output element is computed with
// the same k-ordered sequence of operations whatever the tiling, thread count or M, so a row's result
// never depends on the other rows in the batch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "io/tensor.h"
#include "kernels/dispatch.h"
#include "util/aligned.h"
#include "util/thread_pool.h"

namespace rwkv {

// Storage precision of packed weights. BF16 panels hold pairs of k (k even, k odd) per column so the
// kernel can use one bf16 dot-product instruction per pair; activations are rounded to bf16 once per
// product (or come rounded: GemmJob::A_bf16) and accumulation is fp32. INT8 panels hold symmetric int8
// weights with one fp32 scale per output column (scale = max|w| / 127); activations stay fp32, the int8
// values are widened in registers and the column's scale is applied once to the fp32 sum (weight-only
// quantisation: 4x fewer weight bytes). INT8 panels are stored four to a group (64 columns), a group's
// k-th row being one 64-byte cache line: a one-row tile streams one line per group and k, and skipping a
// zero k spares whole lines, as with fp32.
//
// W8A8 panels hold the same per-column symmetric int8 weights in k quads (a panel's quad is one 64-byte line:
// 16 columns × 4 k), with each column's weight sum; each product quantises its activation rows to int8 with
// one scale per row (max|a| / 127) and sums integer products four k at a time (KernelTable::gemm_tile_q8).
// The fastest mode for prefill and queries, and the least exact (activations keep 8 bits per row).
enum class WeightPrecision { F32, BF16, Int8, W8A8 };

// "fp32", "bf16", "int8", "w8a8".
const char* precision_name(WeightPrecision p);
// Parses "fp32" | "bf16" | "int8"; throws rwkv::Error naming `what` (e.g. "--precision") otherwise.
WeightPrecision parse_precision(const std::string& name, const std::string& what);

class PackedMatrix {
 public:
  PackedMatrix() = default;
  // From a Linear weight stored [out, in]: B = Wᵀ, K = in, N = out.
  static PackedMatrix from_linear(const TensorView& w, WeightPrecision p = WeightPrecision::F32);
  // From a matrix stored [in, out] (LoRA factors): B = w, K = in, N = out.
  static PackedMatrix from_in_out(const TensorView& w, WeightPrecision p = WeightPrecision::F32);
  // From row-major fp32 B[K, N].
  static PackedMatrix from_rows(const float* b, int K, int N, WeightPrecision p = WeightPrecision::F32);

  int K() const { return K_; }
  int N() const { return N_; }
  int panels() const { return (N_ + 15) / 16; }
  WeightPrecision precision() const { return precision_; }
  int k_pairs() const { return (K_ + 1) / 2; }
  const float* panel(int p) const { return data_.data() + static_cast<std::size_t>(p) * K_ * 16; }
  const std::uint16_t* panel_bf16(int p) const {
    return bf16_.data() + static_cast<std::size_t>(p) * k_pairs() * 32;
  }
  // Panel p's first row inside its group: rows kI8RowBytes apart, the group's next panel 16 bytes on, the
  // next group kI8RowBytes * K bytes on.
  const std::int8_t* panel_i8(int p) const { return i8_.data() + i8_offset(16 * p); }
  const float* panel_scales(int p) const { return scales_.data() + static_cast<std::size_t>(p) * 16; }
  // W8A8: k quads per panel; panel p's first quad (the next quad 64 bytes on); its 16 column weight sums.
  int quads() const { return (K_ + 3) / 4; }
  const std::int8_t* panel_q8(int p) const { return i8_.data() + static_cast<std::size_t>(p) * quads() * 64; }
  const std::int32_t* panel_colsums(int p) const {
    return colsums_.data() + static_cast<std::size_t>(p) * 16;
  }
  std::size_t bytes() const {
    return data_.size() * sizeof(float) + bf16_.size() * sizeof(std::uint16_t) + i8_.size() +
           scales_.size() * sizeof(float) + colsums_.size() * sizeof(std::int32_t);
  }
  bool empty() const { return N_ == 0; }

 private:
  void allocate(int K, int N, WeightPrecision p);
  void set_row_of_b(int k, const float* row);  // B[k, :]
  void set_col_of_b(int n, const float* col);  // B[:, n]
  // INT8, W8A8: row-wise packers need every row before the column scales are known, so they fill an fp32
  // packing first and quantise it here.
  static PackedMatrix quantized_from(const PackedMatrix& f32, WeightPrecision p);
  // Where B[0, n] sits in i8_ (its group's first row; rows kI8RowBytes apart).
  std::size_t i8_offset(int n) const {
    return static_cast<std::size_t>(n / kI8RowBytes) * K_ * kI8RowBytes + n % kI8RowBytes;
  }
  // Quantises column n (K values col_step apart) into i8_ in this matrix's int8 layout, with its scale (and,
  // for W8A8, its weight sum).
  void quantize_column_into(int n, const float* col, std::size_t col_step);
  int K_ = 0, N_ = 0;
  WeightPrecision precision_ = WeightPrecision::F32;
  AlignedVector<float> data_;            // F32: panels × K × 16, zero-padded past N
  AlignedVector<std::uint16_t> bf16_;    // BF16: panels × ceil(K/2) × 16 × 2, zero-padded past N and K
  AlignedVector<std::int8_t> i8_;        // INT8: groups × K × 64, zero-padded past N
  AlignedVector<float> scales_;          // INT8, W8A8: panels × 16 column scales (zero past N)
  AlignedVector<std::int32_t> colsums_;  // W8A8: panels × 16 column weight sums (zero past N)
};

// Reusable scratch for GEMM calls (bf16 copies of activations). One per caller; not thread-safe.
struct GemmScratch {
  AlignedVector<std::uint16_t> a_bf16;
  AlignedVector<std::uint8_t> a_q8;  // W8A8: quantised activation rows
  std::vector<float> a_q8_scales;    // and their scales
};

// One product of gemm_many: C (row stride ldc) = epilogue(A (row stride lda) · B), over the same M rows.
// With bf16 weights, A may come already rounded: A_bf16 rows (stride lda_bf16 >= 2 * B.k_pairs(), each
// zero-padded to 2 * k_pairs, as KernelTable::to_bf16 writes them); A is then not read and may be null.
struct GemmJob {
  const float* A = nullptr;
  std::size_t lda = 0;
  const PackedMatrix* B = nullptr;
  float* C = nullptr;
  std::size_t ldc = 0;
  Epilogue epilogue = Epilogue::Store;
  const std::uint16_t* A_bf16 = nullptr;
  std::size_t lda_bf16 = 0;
};

// Runs independent products as one set of parallel tasks (one synchronisation for all of them). No
// job may write what another reads. Each output element gets the same arithmetic as from gemm().
void gemm_many(const KernelTable& kt, ThreadPool& pool, int M, std::span<const GemmJob> jobs,
               GemmScratch* scratch = nullptr);

// C (row stride ldc) = A (row stride lda) · B. Threads split output tiles. For BF16 weights, A is rounded
// to bf16 first (into `scratch`).
void gemm(const KernelTable& kt, ThreadPool& pool, int M, const float* A, std::size_t lda,
          const PackedMatrix& B, float* C, std::size_t ldc, GemmScratch* scratch = nullptr,
          Epilogue epilogue = Epilogue::Store);

}  // namespace rwkv

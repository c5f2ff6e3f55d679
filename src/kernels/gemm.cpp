// Packing of weight matrices into 16-column panels, and the tiled GEMM driver.
#include "kernels/gemm.h"

#include <algorithm>

#include "io/tensor.h"
#include "io/tensor_rows.h"
#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv {

namespace {

constexpr int kTileRows = 8;     // rows per micro-kernel call
constexpr int kTilePanels = 2;   // 16-column panels per micro-kernel call
constexpr int kBlockRows = 64;   // rows per parallel task
constexpr int kBlockPanels = 8;  // panels per parallel task (128 columns)

}  // namespace

PackedMatrix PackedMatrix::from_rows(const float* b, int K, int N, WeightPrecision p) {
  PackedMatrix m;
  m.allocate(K, N, p);
  for (int k = 0; k < K; ++k) m.set_row_of_b(k, b + static_cast<std::size_t>(k) * N);
  return m;
}

void PackedMatrix::allocate(int K, int N, WeightPrecision p) {
  K_ = K;
  N_ = N;
  precision_ = p;
  if (p == WeightPrecision::BF16) {
    // Zero everything (cheap next to the fp32 path's size): padding columns and the odd-K pad row.
    bf16_.assign(static_cast<std::size_t>(panels()) * k_pairs() * 32, 0);
    return;
  }
  data_.resize(static_cast<std::size_t>(panels()) * K * 16);
  // Zero only the padding columns of the last panel; everything else is written by the packers.
  if (N % 16 != 0) {
    float* last = data_.data() + static_cast<std::size_t>(panels() - 1) * K * 16;
    for (int k = 0; k < K; ++k)
      for (int c = N % 16; c < 16; ++c) last[static_cast<std::size_t>(k) * 16 + c] = 0.0f;
  }
}

void PackedMatrix::set_row_of_b(int k, const float* row) {
  if (precision_ == WeightPrecision::BF16) {
    const std::size_t kp = static_cast<std::size_t>(k_pairs());
    for (int n = 0; n < N_; ++n)
      bf16_[((n / 16) * kp + k / 2) * 32 + (n % 16) * 2 + k % 2] = float_to_bf16(row[n]);
    return;
  }
  for (int n = 0; n < N_; ++n) data_[(static_cast<std::size_t>(n / 16) * K_ + k) * 16 + n % 16] = row[n];
}

void PackedMatrix::set_col_of_b(int n, const float* col) {
  if (precision_ == WeightPrecision::BF16) {
    std::uint16_t* p = bf16_.data() + static_cast<std::size_t>(n / 16) * k_pairs() * 32 + (n % 16) * 2;
    for (int k = 0; k < K_; ++k) p[static_cast<std::size_t>(k / 2) * 32 + k % 2] = float_to_bf16(col[k]);
    return;
  }
  float* p = data_.data() + static_cast<std::size_t>(n / 16) * K_ * 16 + n % 16;
  for (int k = 0; k < K_; ++k) p[static_cast<std::size_t>(k) * 16] = col[k];
}

static void require_2d(const TensorView& w) {
  if (w.shape.size() != 2 || w.shape[0] <= 0 || w.shape[1] <= 0 || w.shape[0] > (1 << 24) ||
      w.shape[1] > (1 << 24))
    throw Error(str("tensor ", w.name, ": expected a non-empty 2-D matrix"));
}

PackedMatrix PackedMatrix::from_in_out(const TensorView& w, WeightPrecision p) {
  require_2d(w);
  const int K = static_cast<int>(w.shape[0]), N = static_cast<int>(w.shape[1]);
  PackedMatrix m;
  m.allocate(K, N, p);
  std::vector<float> row(static_cast<std::size_t>(N));
  for (int k = 0; k < K; ++k) {
    tensor_row_to_float(w, k, row.data());
    m.set_row_of_b(k, row.data());
  }
  return m;
}

PackedMatrix PackedMatrix::from_linear(const TensorView& w, WeightPrecision p) {
  require_2d(w);
  const int N = static_cast<int>(w.shape[0]), K = static_cast<int>(w.shape[1]);
  PackedMatrix m;
  m.allocate(K, N, p);
  std::vector<float> row(static_cast<std::size_t>(K));
  for (int n = 0; n < N; ++n) {  // row n of W is column n of B
    tensor_row_to_float(w, n, row.data());
    m.set_col_of_b(n, row.data());
  }
  return m;
}

void gemm(const KernelTable& kt, ThreadPool& pool, int M, const float* A, std::size_t lda,
          const PackedMatrix& B, float* C, std::size_t ldc, GemmScratch* scratch) {
  if (M <= 0 || B.N() == 0) return;
  const int K = B.K(), panels = B.panels();
  const bool bf16 = B.precision() == WeightPrecision::BF16;
  GemmScratch local;
  const std::uint16_t* Ab = nullptr;
  const std::size_t ldab = static_cast<std::size_t>(B.k_pairs()) * 2;
  if (bf16) {
    GemmScratch& s = scratch ? *scratch : local;
    if (s.a_bf16.size() < static_cast<std::size_t>(M) * ldab)
      s.a_bf16.resize(static_cast<std::size_t>(M) * ldab);
    std::uint16_t* dst = s.a_bf16.data();
    pool.parallel_for(static_cast<std::size_t>(M), 16, [&](std::size_t b, std::size_t e, int) {
      for (std::size_t m = b; m < e; ++m) kt.to_bf16(A + m * lda, dst + m * ldab, K, static_cast<int>(ldab));
    });
    Ab = dst;
  }
  const int row_blocks = (M + kBlockRows - 1) / kBlockRows;
  const int col_blocks = (panels + kBlockPanels - 1) / kBlockPanels;
  auto run_block = [&](std::size_t task, int) {
    const int rb = static_cast<int>(task) / col_blocks, cb = static_cast<int>(task) % col_blocks;
    const int m_end = std::min(M, (rb + 1) * kBlockRows);
    const int p_end = std::min(panels, (cb + 1) * kBlockPanels);
    for (int p = cb * kBlockPanels; p < p_end; p += kTilePanels) {
      const int np = std::min(kTilePanels, p_end - p);
      const int n_valid = std::min(np * 16, B.N() - p * 16);
      for (int m = rb * kBlockRows; m < m_end; m += kTileRows) {
        const int mr = std::min(kTileRows, m_end - m);
        float* c = C + static_cast<std::size_t>(m) * ldc + static_cast<std::size_t>(p) * 16;
        if (bf16) {
          kt.gemm_tile_bf16(mr, np, B.k_pairs(), Ab + static_cast<std::size_t>(m) * ldab, ldab,
                            B.panel_bf16(p), c, ldc, n_valid);
        } else {
          kt.gemm_tile(mr, np, K, A + static_cast<std::size_t>(m) * lda, lda, B.panel(p), c, ldc, n_valid);
        }
      }
    }
  };
  const std::size_t tasks = static_cast<std::size_t>(row_blocks) * col_blocks;
  if (tasks == 1 || static_cast<long>(M) * K * B.N() < 32 * 1024) {
    for (std::size_t t = 0; t < tasks; ++t) run_block(t, 0);
  } else {
    pool.run_tasks(tasks, run_block);
  }
}

}  // namespace rwkv

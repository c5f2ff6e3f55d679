// Runtime CPU dispatch: which instruction set the kernels use. Decided once per Kernels object from the
// CPU's features, or forced with RWKV_FORCE_ISA=generic|avx2|avx512 (an unsupported forced ISA is an
// error, never a silent fallback). Kernel tables are immutable and shared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rwkv {

enum class Isa { Generic, Avx2, Avx512 };

std::string_view isa_name(Isa isa);
Isa parse_isa(std::string_view name);  // throws rwkv::Error on unknown names
bool isa_supported(Isa isa);           // by this CPU
std::vector<Isa> supported_isas();     // generic first, best last
Isa best_isa();
// RWKV_FORCE_ISA if set (must be supported), otherwise best_isa().
Isa select_isa();

// Per-layer constants of the RWKV-7 row passes around the WKV (spec §4), each n channels long; n is a
// multiple of the head size, 64.
struct WkvRowConsts {
  const float *w0, *a0, *k_k, *k_a, *v0, *r_k, *ln_w, *ln_b;
  int n;
  float eps;  // of the per-head GroupNorm
};

// What a matrix-product tile does with each finished output element (after its full k sum): stores it,
// passes it through an activation, or adds it to what C already holds (a residual update: C + sum).
enum class Epilogue { Store, Tanh, Sigmoid, ReluSquared, Accumulate };

// int8 weight panels (16 columns each) are stored four to a group: a group's row k holds the 64 columns'
// weights of that k, one 64-byte cache line, and the group's rows follow one another (K * 64 bytes).
constexpr int kI8GroupPanels = 4;
constexpr int kI8RowBytes = 16 * kI8GroupPanels;

// The tile shapes that keep an ISA's accumulators in its registers (a tile of 16-column panels needs mr x np
// 16-float accumulators: one register each with AVX-512, two with AVX2, four with 16-byte vectors). The GEMM
// driver cuts products into tiles of up to `rows` rows and `panels` panels, and gives the trailing one or
// two rows of a row block (decode, short queries) tiles of `wide_panels / rows` panels, so their
// multiply-adds form independent chains. Every kernel takes every shape of its contract; these only choose.
struct TileShape {
  int rows;         // 1..8
  int panels;       // 1..2
  int wide_panels;  // 1, 2, 4 or 8
};

// Micro-kernels implemented per ISA. All take fp32 data; pointers need no alignment.
struct KernelTable {
  Isa isa;
  TileShape tiles;
  // C[m, n0:n0+16*np] = epi(A[m, 0:K] · Bpanels), for rows m in [0, mr) (mr <= 8) and np panels (np <= 2;
  // one- and two-row tiles up to 8 and 4). Bp points at panel p's K×16 block; panels are contiguous with
  // stride K*16. n_valid limits the columns written in the last panel (1..16*np). Results do not depend
  // on the tile shape.
  void (*gemm_tile)(int mr, int np, int K, const float* A, std::size_t lda, const float* Bp, float* C,
                    std::size_t ldc, int n_valid, Epilogue epi);
  // WKV-7 over T tokens of one head (N = 64). S is the head's state [i=value][j=key], updated in place.
  // Per token t, inputs are rows of 64 at stride `stride` floats: r, decay d, k (modified), v, kk (the
  // normalised key) and a. Output y rows (same stride) are written.
  void (*wkv7)(int T, std::size_t stride, const float* r, const float* d, const float* k, const float* v,
               const float* kk, const float* a, float* S, float* y);
  // RWKV-4 WKV (the numerically stable form with a running maximum exponent) over T tokens of n channels:
  // per token t, rows k, v, r and y at stride `stride` floats; w = -exp(time_decay) and u = time_first per
  // channel; aa, bb, pp the channels' state, updated in place. y = r * wkv. Each channel's arithmetic is
  // the same whatever n and its position (16 channels per vector, a last partial vector in a padded copy).
  void (*wkv4)(int T, std::size_t stride, int n, const float* w, const float* u, const float* k,
               const float* v, const float* r, float* y, float* aa, float* bb, float* pp);
  // Runs `iters` rounds of 12 independent 16-wide multiply-adds (a peak-FLOP probe for benchmarks);
  // returns a value that depends on every result so the work cannot be optimised away.
  float (*fma_burn)(long iters);
  // bf16 GEMM tile: A holds bf16 rows (row stride lda elements, k pairs adjacent, zero-padded to 2*KP),
  // Bp the panels' KP × 16 × 2 bf16 blocks (panel stride KP*32). fp32 accumulation. Same C contract.
  void (*gemm_tile_bf16)(int mr, int np, int KP, const std::uint16_t* A, std::size_t lda,
                         const std::uint16_t* Bp, float* C, std::size_t ldc, int n_valid, Epilogue epi);
  // int8-weight tile: Bp points at the tile's first panel inside its group (rows kI8RowBytes apart; the
  // group's next panel 16 bytes on, the next group K * kI8RowBytes bytes on); a tile's panels either start
  // a group or stay inside one. scales: 16 fp32 per panel (panel stride 16). C = epi((A · widen(Bp)) *
  // scale per column), fp32 accumulation. Same C contract.
  void (*gemm_tile_i8)(int mr, int np, int K, const float* A, std::size_t lda, const std::int8_t* Bp,
                       const float* scales, float* C, std::size_t ldc, int n_valid, Epilogue epi);
  // W8A8 tile: activation rows quantised to int8 and stored offset by 128 as bytes (A, row stride lda bytes,
  // each row padded to 4 * KQ bytes with 128, as quantize_row_q8 writes them) with one fp32 scale per row
  // (a_scales[0..mr)); Bp the tile's first panel of KQ k quads × 16 columns × 4 int8 weights (quad q of
  // column c at byte 64 q + 4 c, the next panel KQ * 64 bytes on); per panel 16 column sums of the weights
  // (colsums) and 16 column scales (w_scales). C = epi(float(Σ_k (a + 128) w − 128 colsum) · w_scale ·
  // a_scale), the integer sum accumulated in 32 bits (exact for K up to 65536). Integer sums do not depend
  // on their order, so every ISA gives the same bits. Same C contract as gemm_tile.
  void (*gemm_tile_q8)(int mr, int np, int KQ, const std::uint8_t* A, std::size_t lda, const float* a_scales,
                       const std::int8_t* Bp, const std::int32_t* colsums, const float* w_scales, float* C,
                       std::size_t ldc, int n_valid, Epilogue epi);
  // Rounds n floats to bf16 (nearest even), writing `padded` values (the rest zero).
  void (*to_bf16)(const float* x, std::uint16_t* out, int n, int padded);
  // Quantises n activations for W8A8 products (gemm_tile_q8's A): writes round(x / scale) + 128 (nearest,
  // half to even; clamped to [1, 255]; NaN as 0) for each x, then 128 (zero) up to `padded` bytes, and
  // returns scale = max|x| / 127 (0 for a zero row).
  float (*quantize_row_q8)(const float* x, int n, std::uint8_t* out, int padded);
  // LayerNorm over n channels (eps inside the square root), y may alias x.
  void (*layer_norm)(const float* x, float* y, int n, const float* w, const float* b, float eps);
  // Token shift: out[i][c] = u[c] + (prev[c] - u[c]) * mix[i][c] for i in [0, outputs), c in [0, n); a null
  // prev counts as zeros (a sequence's first token). Outputs must not overlap the inputs.
  void (*token_mix)(const float* u, const float* prev, std::size_t n, int outputs, const float* const* mix,
                    float* const* out);
  // The same token shift with each output rounded to bf16 (to_bf16's bits) as it is stored, every output row
  // zero-padded from n to `padded` entries: the A rows of products with bf16 weights.
  void (*token_mix_bf16)(const float* u, const float* prev, std::size_t n, int outputs,
                         const float* const* mix, std::uint16_t* const* out, std::size_t padded);
  // RWKV-4's token shift: out[i][c] = cur[c] * mix[i][c] + prev[c] * keep[i][c] (keep = 1 - mix, given), a
  // null prev counting as zeros; and the same rounded to bf16 as it is stored (to_bf16's bits), each output
  // row zero-padded from n to `padded` entries. Outputs must not overlap the inputs.
  void (*token_mix_keep)(const float* cur, const float* prev, std::size_t n, int outputs,
                         const float* const* mix, const float* const* keep, float* const* out);
  void (*token_mix_keep_bf16)(const float* cur, const float* prev, std::size_t n, int outputs,
                              const float* const* mix, const float* const* keep, std::uint16_t* const* out,
                              std::size_t padded);
  // One row's WKV inputs, in place: dec = exp(-e^(-1/2) sigmoid(w0 + dec)) (the decay); a = sigmoid(a + a0);
  // kk = k * k_k normalised per head of 64 (L2, norm floored at 1e-12); k = k * (1 + (a - 1) * k_a); then
  // with a value gate (layers after the first): vgate = sigmoid(vgate + v0), v = v + (v_first - v) * vgate;
  // without (vgate null, the first layer): v_first = v.
  void (*wkv_inputs)(const WkvRowConsts& c, float* dec, float* a, float* k, float* kk, float* v,
                     float* v_first, float* vgate);
  // One row's attention output, in place, per head of 64: y = (GroupNorm(y) + sum(r * k * r_k) v) * g.
  // With y_bf16 set the result is rounded to bf16 there instead (to_bf16's bits; y is left holding the
  // GroupNorm): the A row of a bf16 output projection.
  void (*wkv_output)(const WkvRowConsts& c, float* y, const float* r, const float* k, const float* v,
                     const float* g, std::uint16_t* y_bf16);
  // One-row tiles (np <= 8 panels) that sum only the listed k of the row a (ascending; the row is zero
  // at every other k), reading only those weight rows (in decode, the FFN value rows under the zeros of
  // the ReLU²). Adding a zero product leaves an fp32 sum unchanged, so C is gemm_tile's with
  // mr = 1 for finite weights (bit for bit, but for the sign of a sum that underflowed to zero).
  void (*gemm_row_sparse)(int np, int nk, const int* ks, const float* a, int K, const float* Bp, float* C,
                          int n_valid, Epilogue epi);
  // The same over k pairs (kps lists the pairs with a non-zero half) of a bf16 row (gemm_tile_bf16's A).
  void (*gemm_row_sparse_bf16)(int np, int nk, const int* kps, const std::uint16_t* a, int KP,
                               const std::uint16_t* Bp, float* C, int n_valid, Epilogue epi);
  // The same with int8 weights and their column scales (gemm_tile_i8's B).
  void (*gemm_row_sparse_i8)(int np, int nk, const int* ks, const float* a, int K, const std::int8_t* Bp,
                             const float* scales, float* C, int n_valid, Epilogue epi);
  // The same for one W8A8 row (gemm_tile_q8's A and B, the row's scale a_scale) over the listed k quads (qs,
  // ascending; every other quad of the row is four bytes of 128, i.e. zero): it sums (a - 128) w over those
  // quads, the integer the dense tile gets from its sum minus 128 colsum, so C is gemm_tile_q8's with mr = 1
  // bit for bit.
  void (*gemm_row_sparse_q8)(int np, int nq, const int* qs, const std::uint8_t* a, int KQ,
                             const std::int8_t* Bp, const float* w_scales, float a_scale, float* C,
                             int n_valid, Epilogue epi);
};

const KernelTable& kernels_for(Isa isa);  // throws rwkv::Error if not supported by this CPU

}  // namespace rwkv

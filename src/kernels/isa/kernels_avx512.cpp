// Micro-kernels compiled for the avx512 instruction set (flags set in CMakeLists.txt).
#include "kernels/isa/kernels_impl.inc"
#include "kernels/isa/kernels_isa.h"

#include <immintrin.h>

namespace {

// AVX512_BF16 tile: one vdpbf16ps per (row, panel, k pair): acc += a_even*b_even + a_odd*b_odd.
template <int MR, int NP>
struct Bf16TileAvx512 {
  static void run(int KP, const std::uint16_t* A, std::size_t lda, const std::uint16_t* Bp, float* C,
                  std::size_t ldc, int n_valid) {
    __m512 acc[MR][NP];
    for (int m = 0; m < MR; ++m)
      for (int p = 0; p < NP; ++p) acc[m][p] = _mm512_setzero_ps();
    const std::size_t panel_stride = static_cast<std::size_t>(KP) * 32;
    for (int kp = 0; kp < KP; ++kp) {
      __m512bh b[NP];
      for (int p = 0; p < NP; ++p)
        b[p] = reinterpret_cast<__m512bh>(
            _mm512_loadu_si512(Bp + p * panel_stride + static_cast<std::size_t>(kp) * 32));
      for (int m = 0; m < MR; ++m) {
        std::int32_t pair;
        std::memcpy(&pair, A + m * lda + 2 * static_cast<std::size_t>(kp), 4);
        const __m512bh a = reinterpret_cast<__m512bh>(_mm512_set1_epi32(pair));
        for (int p = 0; p < NP; ++p) acc[m][p] = _mm512_dpbf16_ps(acc[m][p], a, b[p]);
      }
    }
    store_tile<MR, NP>(static_cast<const void*>(acc), C, ldc, n_valid);
  }
};

}  // namespace

namespace rwkv::isa {

void gemm_tile_avx512(int mr, int np, int K, const float* A, std::size_t lda, const float* Bp, float* C,
                      std::size_t ldc, int n_valid) {
  gemm_tile_impl(mr, np, K, A, lda, Bp, C, ldc, n_valid);
}

void wkv7_avx512(int T, std::size_t stride, const float* r, const float* d, const float* k, const float* v,
                 const float* kk, const float* a, float* S, float* y) {
  wkv7_impl(T, stride, r, d, k, v, kk, a, S, y);
}

float fma_burn_avx512(long iters) {
  return fma_burn_impl(iters);
}

void gemm_tile_bf16_avx512(int mr, int np, int KP, const std::uint16_t* A, std::size_t lda,
                           const std::uint16_t* Bp, float* C, std::size_t ldc, int n_valid) {
  dispatch_tile<Bf16TileAvx512>(mr, np, KP, A, lda, Bp, C, ldc, n_valid);
}

void to_bf16_avx512(const float* x, std::uint16_t* out, int n, int padded) {
  to_bf16_impl(x, out, n, padded);
}

void activate_avx512(int kind, float* x, std::size_t n) {
  activate_impl(kind, x, n);
}
void decay_avx512(const float* bias, float* z, std::size_t n) {
  decay_impl(bias, z, n);
}
void layer_norm_avx512(const float* x, float* y, int n, const float* w, const float* b, float eps) {
  layer_norm_impl(x, y, n, w, b, eps);
}

}  // namespace rwkv::isa

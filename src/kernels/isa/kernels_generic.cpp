// Micro-kernels compiled for the generic instruction set (flags set in CMakeLists.txt).
#include "kernels/isa/kernels_impl.inc"
#include "kernels/isa/kernels_isa.h"

namespace rwkv::isa {

void gemm_tile_generic(int mr, int np, int K, const float* A, std::size_t lda, const float* Bp, float* C,
                       std::size_t ldc, int n_valid) {
  gemm_tile_impl(mr, np, K, A, lda, Bp, C, ldc, n_valid);
}

void wkv7_generic(int T, std::size_t stride, const float* r, const float* d, const float* k, const float* v,
                  const float* kk, const float* a, float* S, float* y) {
  wkv7_impl(T, stride, r, d, k, v, kk, a, S, y);
}

float fma_burn_generic(long iters) {
  return fma_burn_impl(iters);
}

void gemm_tile_bf16_generic(int mr, int np, int KP, const std::uint16_t* A, std::size_t lda,
                            const std::uint16_t* Bp, float* C, std::size_t ldc, int n_valid) {
  gemm_tile_bf16_portable(mr, np, KP, A, lda, Bp, C, ldc, n_valid);
}

void to_bf16_generic(const float* x, std::uint16_t* out, int n, int padded) {
  to_bf16_impl(x, out, n, padded);
}

void activate_generic(int kind, float* x, std::size_t n) {
  activate_impl(kind, x, n);
}
void decay_generic(const float* bias, float* z, std::size_t n) {
  decay_impl(bias, z, n);
}
void layer_norm_generic(const float* x, float* y, int n, const float* w, const float* b, float eps) {
  layer_norm_impl(x, y, n, w, b, eps);
}

}  // namespace rwkv::isa

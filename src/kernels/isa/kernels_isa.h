// Declarations of the per-ISA micro-kernels (see KernelTable in dispatch.h for their contracts).
// Each *_avx2.cpp / *_avx512.cpp file is compiled with its own target flags (CMakeLists.txt).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/dispatch.h"

namespace rwkv::isa {

#define RWKV_DECLARE_KERNELS(SUFFIX)                                                                         \
  void gemm_tile_##SUFFIX(int mr, int np, int K, const float* A, std::size_t lda, const float* Bp, float* C, \
                          std::size_t ldc, int n_valid, Epilogue epi);                                       \
  void wkv7_##SUFFIX(int T, std::size_t stride, const float* r, const float* d, const float* k,              \
                     const float* v, const float* kk, const float* a, float* S, float* y);                   \
  void wkv4_##SUFFIX(int T, std::size_t stride, int n, const float* w, const float* u, const float* k,       \
                     const float* v, const float* r, float* y, float* aa, float* bb, float* pp);             \
  float fma_burn_##SUFFIX(long iters);                                                                       \
  void gemm_tile_bf16_##SUFFIX(int mr, int np, int KP, const std::uint16_t* A, std::size_t lda,              \
                               const std::uint16_t* Bp, float* C, std::size_t ldc, int n_valid,              \
                               Epilogue epi);                                                                \
  void gemm_tile_i8_##SUFFIX(int mr, int np, int K, const float* A, std::size_t lda, const std::int8_t* Bp,  \
                             const float* scales, float* C, std::size_t ldc, int n_valid, Epilogue epi);     \
  void gemm_tile_q8_##SUFFIX(int mr, int np, int KQ, const std::uint8_t* A, std::size_t lda,                 \
                             const float* a_scales, const std::int8_t* Bp, const std::int32_t* colsums,      \
                             const float* w_scales, float* C, std::size_t ldc, int n_valid, Epilogue epi);   \
  void gemm_row_sparse_##SUFFIX(int np, int nk, const int* ks, const float* a, int K, const float* Bp,       \
                                float* C, int n_valid, Epilogue epi);                                        \
  void gemm_row_sparse_bf16_##SUFFIX(int np, int nk, const int* kps, const std::uint16_t* a, int KP,         \
                                     const std::uint16_t* Bp, float* C, int n_valid, Epilogue epi);          \
  void gemm_row_sparse_i8_##SUFFIX(int np, int nk, const int* ks, const float* a, int K,                     \
                                   const std::int8_t* Bp, const float* scales, float* C, int n_valid,        \
                                   Epilogue epi);                                                            \
  void gemm_row_sparse_q8_##SUFFIX(int np, int nq, const int* qs, const std::uint8_t* a, int KQ,             \
                                   const std::int8_t* Bp, const float* w_scales, float a_scale, float* C,    \
                                   int n_valid, Epilogue epi);                                               \
  void to_bf16_##SUFFIX(const float* x, std::uint16_t* out, int n, int padded);                              \
  float quantize_row_q8_##SUFFIX(const float* x, int n, std::uint8_t* out, int padded);                      \
  void layer_norm_##SUFFIX(const float* x, float* y, int n, const float* w, const float* b, float eps);      \
  void token_mix_##SUFFIX(const float* u, const float* prev, std::size_t n, int outputs,                     \
                          const float* const* mix, float* const* out);                                       \
  void token_mix_bf16_##SUFFIX(const float* u, const float* prev, std::size_t n, int outputs,                \
                               const float* const* mix, std::uint16_t* const* out, std::size_t padded);      \
  void token_mix_keep_##SUFFIX(const float* cur, const float* prev, std::size_t n, int outputs,              \
                               const float* const* mix, const float* const* keep, float* const* out);        \
  void token_mix_keep_bf16_##SUFFIX(const float* cur, const float* prev, std::size_t n, int outputs,         \
                                    const float* const* mix, const float* const* keep,                       \
                                    std::uint16_t* const* out, std::size_t padded);                          \
  void wkv_inputs_##SUFFIX(const WkvRowConsts& c, float* dec, float* a, float* k, float* kk, float* v,       \
                           float* v_first, float* vgate);                                                    \
  void wkv_output_##SUFFIX(const WkvRowConsts& c, float* y, const float* r, const float* k, const float* v,  \
                           const float* g, std::uint16_t* y_bf16);

RWKV_DECLARE_KERNELS(generic)
RWKV_DECLARE_KERNELS(avx2)
RWKV_DECLARE_KERNELS(avx512)

#undef RWKV_DECLARE_KERNELS

}  // namespace rwkv::isa

// Micro-kernels compiled for the avx512 instruction set (flags set in CMakeLists.txt).
#include "kernels/isa/kernels_impl.inc"
#include "kernels/isa/kernels_isa.h"

#include <immintrin.h>

namespace {

// AVX512_BF16 tile: one vdpbf16ps per (row, panel, k pair): acc += a_even*b_even + a_odd*b_odd.
template <int MR, int NP>
struct Bf16TileAvx512 {
  static void run(int KP, const std::uint16_t* A, std::size_t lda, const std::uint16_t* Bp, float* C,
                  std::size_t ldc, int n_valid, rwkv::Epilogue epi) {
    __m512 acc[MR][NP];
    for (int m = 0; m < MR; ++m)
      for (int p = 0; p < NP; ++p) acc[m][p] = _mm512_setzero_ps();
    const std::size_t panel_stride = static_cast<std::size_t>(KP) * 32;
    prefetch_panel_heads<MR, NP>(Bp, panel_stride * 2);
    for (int kp = 0; kp < KP; ++kp) {
      // one cache line per panel and k pair (see prefetch_panels)
      prefetch_panels<MR, NP>(Bp, static_cast<std::size_t>(kp) * 64, panel_stride * 2);
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
    store_tile<MR, NP>(static_cast<const void*>(acc), C, ldc, n_valid, epi);
  }
};

template <int NP>
struct Bf16RowSparseAvx512 {
  static void run(int nk, const int* kps, const std::uint16_t* a, int KP, const std::uint16_t* Bp, float* C,
                  int n_valid, rwkv::Epilogue epi) {
    __m512 acc[NP];
    for (int p = 0; p < NP; ++p) acc[p] = _mm512_setzero_ps();
    const std::size_t panel_stride = static_cast<std::size_t>(KP) * 32;
    for (int i = 0; i < nk; ++i) {
      const std::size_t kp = static_cast<std::size_t>(kps[i]);
      prefetch_listed_rows<NP>(Bp, panel_stride, kps, i, nk, 32);
      std::int32_t pair;
      std::memcpy(&pair, a + 2 * kp, 4);
      const __m512bh av = reinterpret_cast<__m512bh>(_mm512_set1_epi32(pair));
      for (int p = 0; p < NP; ++p)
        acc[p] = _mm512_dpbf16_ps(
            acc[p], av, reinterpret_cast<__m512bh>(_mm512_loadu_si512(Bp + p * panel_stride + kp * 32)));
    }
    store_tile<1, NP>(static_cast<const void*>(acc), C, 0, n_valid, epi);
  }
};

}  // namespace

namespace rwkv::isa {

RWKV_DEFINE_COMMON_KERNELS(avx512)
RWKV_DEFINE_PORTABLE_Q8_TILE(avx512)

void gemm_tile_bf16_avx512(int mr, int np, int KP, const std::uint16_t* A, std::size_t lda,
                           const std::uint16_t* Bp, float* C, std::size_t ldc, int n_valid,
                           rwkv::Epilogue epi) {
  dispatch_tile<Bf16TileAvx512>(mr, np, KP, A, lda, Bp, C, ldc, n_valid, epi);
}

void gemm_row_sparse_bf16_avx512(int np, int nk, const int* kps, const std::uint16_t* a, int KP,
                                 const std::uint16_t* Bp, float* C, int n_valid, rwkv::Epilogue epi) {
  dispatch_row<Bf16RowSparseAvx512>(np, nk, kps, a, KP, Bp, C, n_valid, epi);
}

}  // namespace rwkv::isa

// Micro-kernels compiled for the avx2 instruction set (flags set in CMakeLists.txt).
#include "kernels/isa/kernels_impl.inc"
#include "kernels/isa/kernels_isa.h"

#include <immintrin.h>

namespace {

// The 8 column sums of a pair of vpmaddwd accumulators: x holds columns 0-3 and y columns 4-7 of eight,
// each column as two adjacent lanes (its k 0-1 and k 2-3 products). hadd gives, per 128-bit half,
// (x0 x1 y0 y1 | x2 x3 y2 y3) in columns; the permute puts the 64-bit pairs in order.
inline __m256i column_sums(__m256i x, __m256i y) {
  return _mm256_permute4x64_epi64(_mm256_hadd_epi32(x, y), 0xD8);
}

// W8A8 tile of at most two rows and one panel (a larger one does not fit the 16 AVX2 registers). AVX2 has
// no 8-bit dot product: each quad of four columns' 16 weights is widened to 16 bits and vpmaddwd
// multiplies them by the row's four activations (widened likewise), adding pairs of k into 32-bit lanes, two
// lanes per column, summed at the end. Exact integer sums, so the same bits as every ISA's tile.
template <int MR>
void q8_block(int KQ, const std::uint8_t* A, std::size_t lda, const float* a_scales, const std::int8_t* Bp,
              const std::int32_t* colsums, const float* w_scales, float* C, std::size_t ldc, int n_valid,
              rwkv::Epilogue epi) {
  __m256i acc[MR][4];
  for (int m = 0; m < MR; ++m)
    for (int h = 0; h < 4; ++h) acc[m][h] = _mm256_setzero_si256();
  const std::size_t panel_bytes = static_cast<std::size_t>(KQ) * 64;
  prefetch_panel_heads<MR, 1>(Bp, panel_bytes);
  for (int q = 0; q < KQ; ++q) {
    const std::size_t row = static_cast<std::size_t>(q) * 64;  // one line per quad
    prefetch_panels<MR, 1>(Bp, row, panel_bytes);
    __m256i w[4];
    for (int h = 0; h < 4; ++h)
      w[h] = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(Bp + row + 16 * h)));
    for (int m = 0; m < MR; ++m) {
      std::int32_t a4;
      std::memcpy(&a4, A + m * lda + 4 * static_cast<std::size_t>(q), 4);
      const __m256i a = _mm256_cvtepu8_epi16(_mm_set1_epi32(a4));  // a0 a1 a2 a3, four times
      for (int h = 0; h < 4; ++h) acc[m][h] = _mm256_add_epi32(acc[m][h], _mm256_madd_epi16(w[h], a));
    }
  }
  const i32x16 offset = load<i32x16>(colsums) * 128;
  const v16 ws = load16(w_scales);
  v16 out[MR];
  for (int m = 0; m < MR; ++m) {
    i32x16 sums;
    sums.part[0] = reinterpret_cast<i32x16::Part>(column_sums(acc[m][0], acc[m][1]));
    sums.part[1] = reinterpret_cast<i32x16::Part>(column_sums(acc[m][2], acc[m][3]));
    out[m] = convert<v16>(sums - offset) * ws * a_scales[m];
  }
  store_tile<MR, 1>(static_cast<const void*>(out), C, ldc, n_valid, epi);
}

}  // namespace

namespace rwkv::isa {

RWKV_DEFINE_COMMON_KERNELS(avx2)
RWKV_DEFINE_PORTABLE_BF16_TILE(avx2)

// Any tile shape, in blocks of up to two rows and one panel (see q8_block).
void gemm_tile_q8_avx2(int mr, int np, int KQ, const std::uint8_t* A, std::size_t lda, const float* a_scales,
                       const std::int8_t* Bp, const std::int32_t* colsums, const float* w_scales, float* C,
                       std::size_t ldc, int n_valid, rwkv::Epilogue epi) {
  const std::size_t panel_bytes = static_cast<std::size_t>(KQ) * 64;
  for (int p = 0; p < np; ++p) {
    const int cols = std::min(16, n_valid - p * 16);
    if (cols <= 0) break;
    for (int m = 0; m < mr; m += 2) {
      const std::uint8_t* a = A + static_cast<std::size_t>(m) * lda;
      const std::int8_t* b = Bp + p * panel_bytes;
      float* c = C + static_cast<std::size_t>(m) * ldc + p * 16;
      if (mr - m >= 2)
        q8_block<2>(KQ, a, lda, a_scales + m, b, colsums + p * 16, w_scales + p * 16, c, ldc, cols, epi);
      else
        q8_block<1>(KQ, a, lda, a_scales + m, b, colsums + p * 16, w_scales + p * 16, c, ldc, cols, epi);
    }
  }
}

}  // namespace rwkv::isa

// Kernel consistency: every ISA variant of the GEMM, WKV-7 and token-shift kernels against a plain scalar
// reference (double accumulation), on odd sizes, misaligned pointers and 1..3 threads. Also: the GEMM result
// of a row does not depend on M, the tiling or the thread count (bit-identical).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "io/tensor.h"
#include "kernels/dispatch.h"
#include "kernels/gemm.h"
#include "rwkv/error.h"
#include "test_support.h"

namespace rwkv {
namespace {

std::vector<float> random_vec(std::size_t n, std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

class KernelIsa : public ::testing::TestWithParam<Isa> {};

TEST_P(KernelIsa, GemmMatchesScalarOnOddShapesAndOffsets) {
  const KernelTable& kt = kernels_for(GetParam());
  std::mt19937 rng(42);
  for (int threads : {1, 3}) {
    ThreadPool pool(threads);
    for (int M : {1, 2, 7, 8, 9, 17, 70}) {
      for (int K : {1, 3, 16, 33, 130}) {
        for (int N : {1, 15, 16, 17, 33, 48, 161}) {
          for (int offset : {0, 1, 3}) {  // misaligned A and C
            const std::size_t lda = static_cast<std::size_t>(K) + 2, ldc = static_cast<std::size_t>(N) + 5;
            auto A = random_vec(M * lda + offset, rng);
            auto B = random_vec(static_cast<std::size_t>(K) * N, rng);
            std::vector<float> C(M * ldc + offset, -7.0f);
            const PackedMatrix P = PackedMatrix::from_rows(B.data(), K, N);
            gemm(kt, pool, M, A.data() + offset, lda, P, C.data() + offset, ldc);
            for (int m = 0; m < M; ++m) {
              for (int n = 0; n < N; ++n) {
                double ref = 0;
                for (int k = 0; k < K; ++k)
                  ref += double(A[offset + m * lda + k]) * B[static_cast<std::size_t>(k) * N + n];
                ASSERT_NEAR(C[offset + m * ldc + n], ref, 1e-4 * (1 + std::sqrt(double(K))))
                    << "M=" << M << " K=" << K << " N=" << N << " m=" << m << " n=" << n;
              }
              for (std::size_t n = N; n < ldc && m + 1 < M; ++n)
                ASSERT_EQ(C[offset + m * ldc + n], -7.0f) << "wrote past N";
            }
          }
        }
      }
    }
  }
}

// One- and two-row products take wider tiles than the rest (decode): the rows must still come out bit
// for bit as in a full batch, in every precision.
TEST_P(KernelIsa, GemmRowsIndependentOfBatch) {
  const KernelTable& kt = kernels_for(GetParam());
  std::mt19937 rng(7);
  const int K = 96, N = 208, M = 37;  // 13 panels: wide tiles of 8, 4 and 1 panels, and 2 + 2 + 1
  auto A = random_vec(static_cast<std::size_t>(M) * K, rng);
  auto B = random_vec(static_cast<std::size_t>(K) * N, rng);
  ThreadPool pool1(1), pool2(2);
  for (WeightPrecision prec :
       {WeightPrecision::F32, WeightPrecision::BF16, WeightPrecision::Int8, WeightPrecision::W8A8}) {
    SCOPED_TRACE(precision_name(prec));
    const PackedMatrix P = PackedMatrix::from_rows(B.data(), K, N, prec);
    std::vector<float> full(static_cast<std::size_t>(M) * N);
    gemm(kt, pool2, M, A.data(), K, P, full.data(), N);
    for (int rows : {1, 2}) {
      for (int m = 0; m + rows <= M; m += rows) {
        std::vector<float> part(static_cast<std::size_t>(rows) * N);
        gemm(kt, pool1, rows, A.data() + static_cast<std::size_t>(m) * K, K, P, part.data(), N);
        for (std::size_t i = 0; i < part.size(); ++i)
          ASSERT_EQ(part[i], full[static_cast<std::size_t>(m) * N + i])
              << "rows " << rows << " at " << m << ", " << i;
      }
    }
  }
}

// A row with zeros (a ReLU² output) alone or last in a batch takes the one-row tiles that skip its zeros
// (KernelTable::gemm_row_sparse): it must come out bit for bit as inside a full batch, in every precision,
// whatever its share of zeros (including none, all, and negative zeros).
TEST_P(KernelIsa, GemmRowWithZerosIndependentOfBatch) {
  const KernelTable& kt = kernels_for(GetParam());
  std::mt19937 rng(23);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  ThreadPool pool1(1), pool2(2);
  for (int K : {1, 7, 96, 131}) {
    const int N = 208, M = 37;
    const std::size_t lda = static_cast<std::size_t>(K) + 1;
    auto A = random_vec(M * lda + 1, rng);
    for (int m = 0; m < M; ++m) {
      const float zeros = m == 0 ? 0.0f : m == 1 ? 1.0f : m % 4 == 0 ? 0.1f : m % 4 == 1 ? 0.95f : 0.8f;
      for (int k = 0; k < K; ++k)
        if (u(rng) < zeros) A[1 + m * lda + k] = (k % 3 == 0) ? -0.0f : 0.0f;
    }
    auto B = random_vec(static_cast<std::size_t>(K) * N, rng);
    for (WeightPrecision prec :
         {WeightPrecision::F32, WeightPrecision::BF16, WeightPrecision::Int8, WeightPrecision::W8A8}) {
      SCOPED_TRACE(std::string(precision_name(prec)) + " K=" + std::to_string(K));
      const PackedMatrix P = PackedMatrix::from_rows(B.data(), K, N, prec);
      std::vector<float> full(static_cast<std::size_t>(M) * N);
      gemm(kt, pool2, M, A.data() + 1, lda, P, full.data(), N);
      for (int rows : {1, 9}) {  // alone, and last of nine (a one-row tile after a full one)
        for (int m = 0; m + rows <= M; ++m) {
          std::vector<float> part(static_cast<std::size_t>(rows) * N);
          gemm(kt, pool2, rows, A.data() + 1 + m * lda, lda, P, part.data(), N);
          for (std::size_t i = 0; i < part.size(); ++i)
            ASSERT_EQ(part[i], full[static_cast<std::size_t>(m) * N + i]) << "rows " << rows << " at " << m;
        }
      }
    }
  }
}

// The skipping kernels themselves, called with the non-zero k of a row: the same bits as the dense
// one-row tile over the whole row, for every width and epilogue, with a misaligned row and a partial
// last panel.
TEST_P(KernelIsa, RowSparseKernelsMatchDenseOneRowTiles) {
  const KernelTable& kt = kernels_for(GetParam());
  std::mt19937 rng(29);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  const int K = 133, N = 8 * 16 - 5;
  auto B = random_vec(static_cast<std::size_t>(K) * N, rng);
  auto a = random_vec(K + 1, rng);
  for (int k = 0; k < K; ++k)
    if (u(rng) < 0.5f) a[1 + k] = 0.0f;
  std::vector<int> ks;
  for (int k = 0; k < K; ++k)
    if (a[1 + k] != 0.0f) ks.push_back(k);
  const PackedMatrix F = PackedMatrix::from_rows(B.data(), K, N, WeightPrecision::F32);
  const PackedMatrix Q = PackedMatrix::from_rows(B.data(), K, N, WeightPrecision::Int8);
  const PackedMatrix H = PackedMatrix::from_rows(B.data(), K, N, WeightPrecision::BF16);
  const int KP = H.k_pairs();
  std::vector<std::uint16_t> ab(2 * KP + 1);
  kt.to_bf16(a.data() + 1, ab.data() + 1, K, 2 * KP);  // misaligned by one bf16
  std::vector<int> kps;
  for (int kp = 0; kp < KP; ++kp)
    if (((ab[1 + 2 * kp] | ab[2 + 2 * kp]) & 0x7fffu) != 0) kps.push_back(kp);
  // W8A8 skips whole k quads: a row whose odd quads are zero (and a fifth of the other entries, at random),
  // quantised one byte off alignment.
  const PackedMatrix W = PackedMatrix::from_rows(B.data(), K, N, WeightPrecision::W8A8);
  const int KQ = W.quads();
  auto aq = random_vec(K, rng);
  for (int k = 0; k < K; ++k)
    if ((k / 4) % 2 == 1 || u(rng) < 0.2f) aq[k] = 0.0f;
  std::vector<std::uint8_t> q8(4 * KQ + 1);
  const float a_scale = kt.quantize_row_q8(aq.data(), K, q8.data() + 1, 4 * KQ);
  std::vector<int> qs;
  for (int q = 0; q < KQ; ++q) {
    std::uint32_t quad;
    std::memcpy(&quad, q8.data() + 1 + 4 * q, 4);
    if (quad != 0x80808080u) qs.push_back(q);
  }
  ASSERT_LT(ks.size(), std::size_t(K));
  ASSERT_LT(kps.size(), std::size_t(KP));
  ASSERT_LT(qs.size(), std::size_t(KQ));
  ASSERT_GT(qs.size(), std::size_t(KQ) / 4);
  const int nk = static_cast<int>(ks.size()), nkp = static_cast<int>(kps.size()),
            nq = static_cast<int>(qs.size());
  for (Epilogue e : {Epilogue::Store, Epilogue::Accumulate, Epilogue::ReluSquared, Epilogue::Tanh}) {
    for (int np : {1, 2, 4, 8}) {
      SCOPED_TRACE("np=" + std::to_string(np) + " epilogue " + std::to_string(static_cast<int>(e)));
      const int n_valid = std::min(np * 16, N);
      // Accumulate adds to what C holds (the same in both); the others must overwrite different values.
      const bool acc = e == Epilogue::Accumulate;
      std::vector<float> dense(np * 16, acc ? 0.25f : -1.0f), sparse(np * 16, acc ? 0.25f : -2.0f);
      auto expect_same = [&](const char* what) {
        EXPECT_EQ(std::vector<float>(sparse.begin(), sparse.begin() + n_valid),
                  std::vector<float>(dense.begin(), dense.begin() + n_valid))
            << what;
        EXPECT_NE(dense[0], acc ? 0.25f : -1.0f) << what;
        if (n_valid < np * 16) {
          EXPECT_EQ(dense[n_valid], acc ? 0.25f : -1.0f) << what << ": wrote past n_valid";
        }
      };
      kt.gemm_tile(1, np, K, a.data() + 1, K, F.panel(0), dense.data(), 0, n_valid, e);
      kt.gemm_row_sparse(np, nk, ks.data(), a.data() + 1, K, F.panel(0), sparse.data(), n_valid, e);
      expect_same("fp32");
      std::fill(dense.begin(), dense.end(), acc ? 0.25f : -1.0f);
      std::fill(sparse.begin(), sparse.end(), acc ? 0.25f : -2.0f);
      kt.gemm_tile_i8(1, np, K, a.data() + 1, K, Q.panel_i8(0), Q.panel_scales(0), dense.data(), 0, n_valid,
                      e);
      kt.gemm_row_sparse_i8(np, nk, ks.data(), a.data() + 1, K, Q.panel_i8(0), Q.panel_scales(0),
                            sparse.data(), n_valid, e);
      expect_same("int8");
      std::fill(dense.begin(), dense.end(), acc ? 0.25f : -1.0f);
      std::fill(sparse.begin(), sparse.end(), acc ? 0.25f : -2.0f);
      kt.gemm_tile_bf16(1, np, KP, ab.data() + 1, 2 * KP, H.panel_bf16(0), dense.data(), 0, n_valid, e);
      kt.gemm_row_sparse_bf16(np, nkp, kps.data(), ab.data() + 1, KP, H.panel_bf16(0), sparse.data(), n_valid,
                              e);
      expect_same("bf16");
      std::fill(dense.begin(), dense.end(), acc ? 0.25f : -1.0f);
      std::fill(sparse.begin(), sparse.end(), acc ? 0.25f : -2.0f);
      kt.gemm_tile_q8(1, np, KQ, q8.data() + 1, 4 * KQ, &a_scale, W.panel_q8(0), W.panel_colsums(0),
                      W.panel_scales(0), dense.data(), 0, n_valid, e);
      kt.gemm_row_sparse_q8(np, nq, qs.data(), q8.data() + 1, KQ, W.panel_q8(0), W.panel_scales(0), a_scale,
                            sparse.data(), n_valid, e);
      expect_same("w8a8");
    }
  }
}

// Each epilogue equals a plain product followed by the same operation, for every tile shape and
// precision: bit for bit for the residual sum and relu², within the vector exp's error for tanh/sigmoid.
TEST_P(KernelIsa, GemmEpiloguesMatchProductThenOperation) {
  const KernelTable& kt = kernels_for(GetParam());
  std::mt19937 rng(17);
  ThreadPool pool(2);
  const int K = 40, N = 161;
  for (WeightPrecision prec :
       {WeightPrecision::F32, WeightPrecision::BF16, WeightPrecision::Int8, WeightPrecision::W8A8}) {
    for (int M : {1, 2, 9, 70}) {
      SCOPED_TRACE(std::string(precision_name(prec)) + " M=" + std::to_string(M));
      auto A = random_vec(static_cast<std::size_t>(M) * K, rng, 0.3f);
      auto B = random_vec(static_cast<std::size_t>(K) * N, rng, 0.3f);
      auto init = random_vec(static_cast<std::size_t>(M) * N, rng);
      const PackedMatrix P = PackedMatrix::from_rows(B.data(), K, N, prec);
      std::vector<float> plain(static_cast<std::size_t>(M) * N);
      gemm(kt, pool, M, A.data(), K, P, plain.data(), N);
      for (Epilogue e : {Epilogue::Tanh, Epilogue::Sigmoid, Epilogue::ReluSquared, Epilogue::Accumulate}) {
        std::vector<float> got = init;
        gemm(kt, pool, M, A.data(), K, P, got.data(), N, nullptr, e);
        for (std::size_t i = 0; i < got.size(); ++i) {
          const float x = plain[i];
          switch (e) {
            case Epilogue::Tanh:
              ASSERT_NEAR(got[i], std::tanh(double(x)), 2e-6) << "tanh at " << i;
              break;
            case Epilogue::Sigmoid:
              ASSERT_NEAR(got[i], 1 / (1 + std::exp(-double(x))), 2e-6) << "sigmoid at " << i;
              break;
            case Epilogue::ReluSquared:
              ASSERT_EQ(got[i], x > 0 ? x * x : 0.0f) << "relu² at " << i;
              break;
            case Epilogue::Accumulate:
              ASSERT_EQ(got[i], init[i] + x) << "accumulate at " << i;
              break;
            case Epilogue::Store:
              break;
          }
        }
      }
    }
  }
}

TEST_P(KernelIsa, Bf16GemmMatchesScalarOnRoundedInputs) {
  const KernelTable& kt = kernels_for(GetParam());
  std::mt19937 rng(11);
  ThreadPool pool(2);
  auto round_bf16 = [](float x) { return bf16_to_float(float_to_bf16(x)); };
  for (int M : {1, 5, 9, 33}) {
    for (int K : {1, 2, 7, 64, 131}) {
      for (int N : {3, 16, 40, 161}) {
        const std::size_t lda = static_cast<std::size_t>(K) + 1;
        auto A = random_vec(M * lda + 1, rng);
        auto B = random_vec(static_cast<std::size_t>(K) * N, rng);
        std::vector<float> C(static_cast<std::size_t>(M) * N);
        const PackedMatrix P = PackedMatrix::from_rows(B.data(), K, N, WeightPrecision::BF16);
        GemmScratch scratch;
        gemm(kt, pool, M, A.data() + 1, lda, P, C.data(), N, &scratch);
        for (int m = 0; m < M; ++m)
          for (int n = 0; n < N; ++n) {
            double ref = 0;
            for (int k = 0; k < K; ++k)
              ref +=
                  double(round_bf16(A[1 + m * lda + k])) * round_bf16(B[static_cast<std::size_t>(k) * N + n]);
            ASSERT_NEAR(C[static_cast<std::size_t>(m) * N + n], ref, 1e-4 * (1 + std::sqrt(double(K))))
                << "M=" << M << " K=" << K << " N=" << N;
          }
      }
    }
  }
}

// A product given its A already rounded to bf16 (GemmJob::A_bf16, as the model's token shifts are
// written) gives the bits of the same product rounding A itself, alone and beside other jobs; a short
// bf16 row stride, or no fp32 A for fp32 weights, is an error.
TEST_P(KernelIsa, GemmTakesPreRoundedBf16Rows) {
  const KernelTable& kt = kernels_for(GetParam());
  std::mt19937 rng(31);
  ThreadPool pool(2);
  for (int M : {1, 3, 9, 70}) {
    for (int K : {1, 7, 64, 131}) {
      SCOPED_TRACE("M=" + std::to_string(M) + " K=" + std::to_string(K));
      const int N = 40;
      const std::size_t lda = static_cast<std::size_t>(K) + 1, ld16 = static_cast<std::size_t>(K + K % 2) + 2;
      auto A = random_vec(M * lda, rng);
      for (int m = 0; m < M; m += 2)  // some rows with zeros (the one-row tiles that skip them)
        for (int k = 0; k < K; k += 3) A[m * lda + k] = 0.0f;
      auto B = random_vec(static_cast<std::size_t>(K) * N, rng);
      const PackedMatrix P = PackedMatrix::from_rows(B.data(), K, N, WeightPrecision::BF16);
      const PackedMatrix F = PackedMatrix::from_rows(B.data(), K, N, WeightPrecision::F32);
      std::vector<std::uint16_t> A16(M * ld16, 0x7fc0);  // the entries past each row's pad are not read
      for (int m = 0; m < M; ++m) kt.to_bf16(A.data() + m * lda, A16.data() + m * ld16, K, K + K % 2);
      std::vector<float> want(static_cast<std::size_t>(M) * N), got(want.size(), -1.0f), f32(want.size());
      gemm(kt, pool, M, A.data(), lda, P, want.data(), N);
      const GemmJob jobs[] = {
          {nullptr, 0, &P, got.data(), static_cast<std::size_t>(N), Epilogue::Store, A16.data(), ld16},
          {A.data(), lda, &F, f32.data(), static_cast<std::size_t>(N)}};
      gemm_many(kt, pool, M, jobs);
      ASSERT_EQ(got, want);
      std::vector<float> f32_want(want.size());
      gemm(kt, pool, M, A.data(), lda, F, f32_want.data(), N);
      ASSERT_EQ(f32, f32_want);
      const GemmJob short_rows{nullptr,
                               0,
                               &P,
                               got.data(),
                               static_cast<std::size_t>(N),
                               Epilogue::Store,
                               A16.data(),
                               static_cast<std::size_t>(K + K % 2) - 1};
      EXPECT_THROW(gemm_many(kt, pool, M, std::span<const GemmJob>(&short_rows, 1)), Error);
      const GemmJob no_a{nullptr,         0,          &F,  got.data(), static_cast<std::size_t>(N),
                         Epilogue::Store, A16.data(), ld16};
      EXPECT_THROW(gemm_many(kt, pool, M, std::span<const GemmJob>(&no_a, 1)), Error);
    }
  }
}

// quantize_row_q8: the bytes of nearbyint(x · 127 / max|x|) + 128 (so within half a step of x), padding,
// ties, zero rows and non-finite entries as stated, on misaligned rows.
TEST_P(KernelIsa, QuantizeRowQ8RoundsToNearestAndPadsWithZero) {
  const KernelTable& kt = kernels_for(GetParam());
  std::mt19937 rng(3);
  for (int n : {1, 5, 16, 64, 131}) {
    auto x = random_vec(static_cast<std::size_t>(n) + 1, rng, 2.0f);
    std::vector<std::uint8_t> q(static_cast<std::size_t>(n) + 8, 0);
    const float scale = kt.quantize_row_q8(x.data() + 1, n, q.data() + 1, n + 7);
    float amax = 0;
    for (int k = 0; k < n; ++k) amax = std::max(amax, std::fabs(x[1 + k]));
    EXPECT_EQ(scale, amax / 127.0f);
    const float inv = 127.0f / amax;
    bool extreme = false;
    for (int k = 0; k < n; ++k) {
      const float xk = x[1 + k];
      ASSERT_EQ(int(q[1 + k]), int(std::nearbyint(xk * inv)) + 128) << "k=" << k;
      extreme = extreme || q[1 + k] == 1 || q[1 + k] == 255;
      EXPECT_LE(std::fabs((q[1 + k] - 128) * double(scale) - xk), 0.5 * scale * (1 + 1e-6)) << "k=" << k;
    }
    EXPECT_TRUE(extreme) << "the largest |x| maps to ±127";
    for (int k = n; k < n + 7; ++k) EXPECT_EQ(q[1 + k], 128) << "padding";
  }
  // Exact ties round half to even: with max |x| = 127 the steps are 1.
  std::vector<float> ties{127.0f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 126.5f};
  std::vector<std::uint8_t> q(ties.size());
  EXPECT_EQ(kt.quantize_row_q8(ties.data(), 8, q.data(), 8), 1.0f);
  EXPECT_EQ(q, (std::vector<std::uint8_t>{255, 128, 130, 130, 128, 126, 126, 254}));
  std::vector<float> zero(9, 0.0f);
  q.assign(12, 0);
  EXPECT_EQ(kt.quantize_row_q8(zero.data(), 9, q.data(), 12), 0.0f);
  EXPECT_EQ(q, std::vector<std::uint8_t>(12, 128));
  std::vector<float> odd{1.0f, std::nanf(""), -2.0f};
  q.assign(3, 0);
  EXPECT_EQ(kt.quantize_row_q8(odd.data(), 3, q.data(), 3), 2.0f / 127.0f);
  EXPECT_EQ(q, (std::vector<std::uint8_t>{192, 128, 1}));  // 1 · 63.5 rounds to 64 (even); NaN as 0
}

// W8A8 products: every ISA gives exactly float(Σ qa·qw) · w_scale · a_scale of the integer sum, with the
// activation rows quantised by quantize_row_q8 and the weight columns as for int8; and the result stays
// within both quantisations' error of the exact product.
TEST_P(KernelIsa, W8A8GemmMatchesIntegerReference) {
  const KernelTable& kt = kernels_for(GetParam());
  std::mt19937 rng(31);
  ThreadPool pool(2);
  for (int M : {1, 2, 5, 9, 33}) {
    for (int K : {1, 3, 4, 7, 64, 131}) {
      for (int N : {3, 16, 40, 161}) {
        SCOPED_TRACE("M=" + std::to_string(M) + " K=" + std::to_string(K) + " N=" + std::to_string(N));
        const std::size_t lda = static_cast<std::size_t>(K) + 1;
        auto A = random_vec(M * lda + 1, rng);
        auto B = random_vec(static_cast<std::size_t>(K) * N, rng);
        for (int k = 0; k < K; ++k) B[static_cast<std::size_t>(k) * N + N - 1] = 0.0f;  // an all-zero column
        if (M > 1) std::fill(A.begin() + 1 + lda, A.begin() + 1 + lda + K, 0.0f);       // an all-zero row
        std::vector<float> C(static_cast<std::size_t>(M) * N);
        const PackedMatrix P = PackedMatrix::from_rows(B.data(), K, N, WeightPrecision::W8A8);
        ASSERT_EQ(P.precision(), WeightPrecision::W8A8);
        gemm(kt, pool, M, A.data() + 1, lda, P, C.data(), N);
        std::vector<std::uint8_t> qa(static_cast<std::size_t>(K));
        for (int n = 0; n < N; ++n) {
          float amax = 0;
          for (int k = 0; k < K; ++k)
            amax = std::max(amax, std::fabs(B[static_cast<std::size_t>(k) * N + n]));
          const float w_scale = amax / 127.0f, w_inv = amax > 0 ? 127.0f / amax : 0.0f;
          for (int m = 0; m < M; ++m) {
            const float* a = A.data() + 1 + m * lda;
            const float a_scale = kt.quantize_row_q8(a, K, qa.data(), K);
            std::int64_t sum = 0;
            double exact = 0, bound = 0;
            for (int k = 0; k < K; ++k) {
              const float b = B[static_cast<std::size_t>(k) * N + n];
              const auto qw = static_cast<std::int64_t>(std::nearbyint(b * w_inv));
              sum += (static_cast<std::int64_t>(qa[k]) - 128) * qw;
              exact += double(a[k]) * b;
              bound += 0.5 * (std::fabs(double(a[k])) * w_scale + std::fabs(double(b)) * a_scale) +
                       0.25 * double(a_scale) * w_scale;
            }
            const float want = static_cast<float>(sum) * w_scale * a_scale;
            const float got = C[static_cast<std::size_t>(m) * N + n];
            ASSERT_EQ(got, want) << "m=" << m << " n=" << n;
            ASSERT_LE(std::fabs(got - exact), bound * (1 + 1e-5) + 1e-6) << "m=" << m << " n=" << n;
          }
        }
      }
    }
  }
}

// W8A8 sums 32-bit integers: deeper weights than 65536 rows could overflow, and are refused by name.
TEST(W8A8Weights, RefuseMoreRowsThanTheIntegerSumsHold) {
  const std::vector<float> column(65537, 0.5f);
  EXPECT_NO_THROW(PackedMatrix::from_rows(column.data(), 65536, 1, WeightPrecision::W8A8));
  try {
    PackedMatrix::from_rows(column.data(), 65537, 1, WeightPrecision::W8A8);
    FAIL() << "65537 rows accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("w8a8 weights: 65537 rows"), std::string::npos) << e.what();
  }
}

TEST_P(KernelIsa, Int8GemmMatchesScalarOnQuantizedWeights) {
  const KernelTable& kt = kernels_for(GetParam());
  std::mt19937 rng(13);
  ThreadPool pool(2);
  for (int M : {1, 5, 9, 33}) {
    for (int K : {1, 2, 7, 64, 131}) {
      for (int N : {3, 16, 40, 161}) {
        const std::size_t lda = static_cast<std::size_t>(K) + 1;
        auto A = random_vec(M * lda + 1, rng);
        auto B = random_vec(static_cast<std::size_t>(K) * N, rng);
        if (N > 3) std::fill(B.begin(), B.begin() + N, 0.0f);  // a zero row; column 0 stays non-zero below
        for (int k = 0; k < K; ++k) B[static_cast<std::size_t>(k) * N + N - 1] = 0.0f;  // an all-zero column
        std::vector<float> C(static_cast<std::size_t>(M) * N);
        const PackedMatrix P = PackedMatrix::from_rows(B.data(), K, N, WeightPrecision::Int8);
        ASSERT_EQ(P.precision(), WeightPrecision::Int8);
        gemm(kt, pool, M, A.data() + 1, lda, P, C.data(), N);
        for (int n = 0; n < N; ++n) {
          double amax = 0;
          for (int k = 0; k < K; ++k)
            amax = std::max(amax, std::fabs(double(B[static_cast<std::size_t>(k) * N + n])));
          const double scale = amax / 127.0;
          for (int m = 0; m < M; ++m) {
            double ref = 0, exact = 0;
            for (int k = 0; k < K; ++k) {
              const double b = B[static_cast<std::size_t>(k) * N + n];
              const double q = scale > 0 ? std::nearbyint(b / scale) : 0.0;
              ref += double(A[1 + m * lda + k]) * q * scale;
              exact += double(A[1 + m * lda + k]) * b;
            }
            const float got = C[static_cast<std::size_t>(m) * N + n];
            ASSERT_NEAR(got, ref, 1e-4 * (1 + std::sqrt(double(K)))) << "M=" << M << " K=" << K << " N=" << N;
            // Quantisation error is at most half a step per weight.
            double bound = 0;
            for (int k = 0; k < K; ++k) bound += std::fabs(double(A[1 + m * lda + k])) * scale * 0.5;
            ASSERT_LE(std::fabs(got - exact), bound + 1e-4 * (1 + std::sqrt(double(K))));
          }
        }
      }
    }
  }
}

// Straightforward WKV-7 (spec §4 item 11) in double.
void wkv_reference(int T, const float* r, const float* d, const float* k, const float* v, const float* kk,
                   const float* a, std::vector<double>& S, std::vector<double>& y) {
  const int N = 64;
  y.assign(static_cast<std::size_t>(T) * N, 0.0);
  for (int t = 0; t < T; ++t) {
    const int o = t * N;
    std::vector<double> s(N, 0.0);
    for (int i = 0; i < N; ++i)
      for (int j = 0; j < N; ++j) s[i] += S[i * N + j] * -kk[o + j];
    for (int i = 0; i < N; ++i)
      for (int j = 0; j < N; ++j)
        S[i * N + j] =
            S[i * N + j] * d[o + j] + s[i] * (double(kk[o + j]) * a[o + j]) + double(v[o + i]) * k[o + j];
    for (int i = 0; i < N; ++i)
      for (int j = 0; j < N; ++j) y[o + i] += S[i * N + j] * r[o + j];
  }
}

TEST_P(KernelIsa, Wkv7MatchesScalar) {
  const KernelTable& kt = kernels_for(GetParam());
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> decay(0.55f, 1.0f), rate(0.0f, 1.0f);
  for (int T : {1, 2, 5, 33}) {
    const std::size_t n = static_cast<std::size_t>(T) * 64 + 1;  // +1: misaligned views below
    auto r = random_vec(n, rng), k = random_vec(n, rng, 0.3f), v = random_vec(n, rng),
         kk = random_vec(n, rng, 0.125f);
    std::vector<float> d(n), a(n);
    for (auto& x : d) x = decay(rng);
    for (auto& x : a) x = rate(rng);
    auto S0 = random_vec(64 * 64, rng);
    std::vector<float> S(S0), y(n);
    kt.wkv7(T, 64, r.data() + 1, d.data() + 1, k.data() + 1, v.data() + 1, kk.data() + 1, a.data() + 1,
            S.data(), y.data() + 1);
    std::vector<double> Sref(S0.begin(), S0.end()), yref;
    wkv_reference(T, r.data() + 1, d.data() + 1, k.data() + 1, v.data() + 1, kk.data() + 1, a.data() + 1,
                  Sref, yref);
    for (int i = 0; i < 64 * 64; ++i)
      ASSERT_NEAR(S[i], Sref[i], 1e-4 * (1 + std::fabs(Sref[i]))) << "T=" << T << " i=" << i;
    for (int i = 0; i < T * 64; ++i)
      ASSERT_NEAR(y[1 + i], yref[i], 1e-3 * (1 + std::fabs(yref[i]))) << "T=" << T << " i=" << i;
  }
}

// A step sums the next step's s while it updates the state; the first step of a call sums it in a pass
// of its own. Both must agree bit for bit, or a text split into chunks would differ from one call.
TEST_P(KernelIsa, Wkv7SplitIntoCallsMatchesOneCallExactly) {
  const KernelTable& kt = kernels_for(GetParam());
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> decay(0.55f, 1.0f), rate(0.0f, 1.0f);
  const int T = 9;
  const std::size_t n = static_cast<std::size_t>(T) * 64;
  auto r = random_vec(n, rng), k = random_vec(n, rng, 0.3f), v = random_vec(n, rng),
       kk = random_vec(n, rng, 0.125f);
  std::vector<float> d(n), a(n);
  for (auto& x : d) x = decay(rng);
  for (auto& x : a) x = rate(rng);
  const auto S0 = random_vec(64 * 64, rng);
  std::vector<float> S_one(S0), y_one(n);
  kt.wkv7(T, 64, r.data(), d.data(), k.data(), v.data(), kk.data(), a.data(), S_one.data(), y_one.data());
  for (int first : {1, 4, 8}) {
    std::vector<float> S(S0), y(n);
    kt.wkv7(first, 64, r.data(), d.data(), k.data(), v.data(), kk.data(), a.data(), S.data(), y.data());
    const std::size_t o = static_cast<std::size_t>(first) * 64;
    kt.wkv7(T - first, 64, r.data() + o, d.data() + o, k.data() + o, v.data() + o, kk.data() + o,
            a.data() + o, S.data(), y.data() + o);
    EXPECT_EQ(S, S_one) << "split after " << first;
    EXPECT_EQ(y, y_one) << "split after " << first;
  }
}

// RWKV-4 WKV in double precision, the stable form (spec rwkv4 §1.4), one channel at a time.
struct Wkv4Ref {
  std::vector<double> y, aa, bb, pp;
};
Wkv4Ref wkv4_reference(int T, std::size_t stride, int n, const float* w, const float* u, const float* k,
                       const float* v, const float* r, const float* aa, const float* bb, const float* pp) {
  Wkv4Ref o{
      std::vector<double>(static_cast<std::size_t>(T) * stride), {aa, aa + n}, {bb, bb + n}, {pp, pp + n}};
  for (int t = 0; t < T; ++t)
    for (int c = 0; c < n; ++c) {
      const std::size_t i = static_cast<std::size_t>(t) * stride + c;
      double ww = double(u[c]) + k[i], q = std::max(o.pp[c], ww);
      double e1 = std::exp(o.pp[c] - q), e2 = std::exp(ww - q);
      o.y[i] = r[i] * (e1 * o.aa[c] + e2 * v[i]) / (e1 * o.bb[c] + e2);
      ww = double(w[c]) + o.pp[c];
      q = std::max(ww, double(k[i]));
      e1 = std::exp(ww - q), e2 = std::exp(k[i] - q);
      o.aa[c] = e1 * o.aa[c] + e2 * v[i];
      o.bb[c] = e1 * o.bb[c] + e2;
      o.pp[c] = q;
    }
  return o;
}

// Channel counts that are not multiples of 16 (a padded last vector) at misaligned addresses, against
// double precision; keys large enough that the running maximum moves both ways.
TEST_P(KernelIsa, Wkv4MatchesScalarOnOddWidthsAndMisalignedRows) {
  const KernelTable& kt = kernels_for(GetParam());
  std::mt19937 rng(41);
  std::uniform_real_distribution<float> decay(-3.0f, -0.01f), positive(0.5f, 2.0f);
  for (int n : {1, 7, 16, 23, 64}) {
    for (int T : {1, 5, 40}) {
      const std::size_t stride = static_cast<std::size_t>(n) + 3, len = T * stride + 1;
      auto k = random_vec(len, rng, 4.0f), v = random_vec(len, rng), r = random_vec(len, rng);
      auto u = random_vec(n + 1, rng), aa = random_vec(n + 1, rng), pp = random_vec(n + 1, rng, 2.0f);
      std::vector<float> w(n + 1), bb(n + 1), y(len, 0.0f);
      for (auto& x : w) x = decay(rng);
      for (auto& x : bb) x = positive(rng);
      const Wkv4Ref ref = wkv4_reference(T, stride, n, w.data() + 1, u.data() + 1, k.data() + 1, v.data() + 1,
                                         r.data() + 1, aa.data() + 1, bb.data() + 1, pp.data() + 1);
      kt.wkv4(T, stride, n, w.data() + 1, u.data() + 1, k.data() + 1, v.data() + 1, r.data() + 1,
              y.data() + 1, aa.data() + 1, bb.data() + 1, pp.data() + 1);
      SCOPED_TRACE("n=" + std::to_string(n) + " T=" + std::to_string(T));
      for (int c = 0; c < n; ++c) {
        ASSERT_NEAR(aa[1 + c], ref.aa[c], 1e-4 * (1 + std::fabs(ref.aa[c]))) << "c=" << c;
        ASSERT_NEAR(bb[1 + c], ref.bb[c], 1e-4 * (1 + std::fabs(ref.bb[c]))) << "c=" << c;
        ASSERT_NEAR(pp[1 + c], ref.pp[c], 1e-5 * (1 + std::fabs(ref.pp[c]))) << "c=" << c;
      }
      for (int t = 0; t < T; ++t)
        for (int c = 0; c < n; ++c) {
          const std::size_t i = t * stride + c;
          ASSERT_NEAR(y[1 + i], ref.y[i], 1e-4 * (1 + std::fabs(ref.y[i]))) << "t=" << t << " c=" << c;
        }
    }
  }
}

// A channel's bits do not depend on the channels beside it (a full vector or the padded last one) nor on
// how its tokens are split into calls: chunked prompts and decode give the one-call result.
TEST_P(KernelIsa, Wkv4ChannelsAndCallsIndependent) {
  const KernelTable& kt = kernels_for(GetParam());
  std::mt19937 rng(43);
  const int n = 37, T = 9;
  const std::size_t stride = n, len = static_cast<std::size_t>(T) * n;
  auto k = random_vec(len, rng, 3.0f), v = random_vec(len, rng), r = random_vec(len, rng);
  auto u = random_vec(n, rng), aa0 = random_vec(n, rng), pp0 = random_vec(n, rng);
  std::vector<float> w(n, -0.5f), bb0(n, 1.5f);
  std::vector<float> aa(aa0), bb(bb0), pp(pp0), y(len);
  kt.wkv4(T, stride, n, w.data(), u.data(), k.data(), v.data(), r.data(), y.data(), aa.data(), bb.data(),
          pp.data());
  // each channel alone (so always in a padded vector), the tokens split after `first`
  for (int first : {1, 4}) {
    std::vector<float> a2(aa0), b2(bb0), p2(pp0), y2(len);
    for (int c = 0; c < n; ++c) {
      kt.wkv4(first, stride, 1, &w[c], &u[c], &k[c], &v[c], &r[c], &y2[c], &a2[c], &b2[c], &p2[c]);
      const std::size_t o = static_cast<std::size_t>(first) * stride + c;
      kt.wkv4(T - first, stride, 1, &w[c], &u[c], &k[o], &v[o], &r[o], &y2[o], &a2[c], &b2[c], &p2[c]);
    }
    EXPECT_EQ(y2, y) << "split after " << first;
    EXPECT_EQ(a2, aa);
    EXPECT_EQ(b2, bb);
    EXPECT_EQ(p2, pp);
  }
}

TEST_P(KernelIsa, LayerNormMatchesScalarOnOddSizesAndMisalignedRows) {
  const KernelTable& kt = kernels_for(GetParam());
  std::mt19937 rng(10);
  for (int n : {1, 7, 8, 9, 64, 100, 768}) {
    const std::size_t m = static_cast<std::size_t>(n) + 1;  // +1: misaligned views
    auto x = random_vec(m, rng, 4.0f), w = random_vec(m, rng), b = random_vec(m, rng);
    for (auto& v : x) v += 3.0f;  // a mean far from zero
    std::vector<float> y(m, -1.0f);
    kt.layer_norm(x.data() + 1, y.data() + 1, n, w.data() + 1, b.data() + 1, 1e-5f);
    double sum = 0, var = 0;
    for (int i = 1; i <= n; ++i) sum += x[i];
    const double mean = sum / n;
    for (int i = 1; i <= n; ++i) var += (x[i] - mean) * (x[i] - mean);
    const double inv = 1.0 / std::sqrt(var / n + 1e-5);
    EXPECT_EQ(y[0], -1.0f);
    for (int i = 1; i <= n; ++i) {
      const double want = (x[i] - mean) * inv * w[i] + b[i];
      EXPECT_NEAR(y[i], want, 1e-5 * (1 + std::fabs(want))) << "n " << n << " channel " << i - 1;
    }
  }
}

double sigmoid_ref(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

// The row passes around the WKV (spec §4) in double, one row of n channels, heads of 64.
TEST_P(KernelIsa, WkvInputsMatchScalarWithAndWithoutValueGate) {
  const KernelTable& kt = kernels_for(GetParam());
  std::mt19937 rng(8);
  for (int n : {64, 192}) {
    const std::size_t m = static_cast<std::size_t>(n) + 1;  // +1: misaligned views
    auto w0 = random_vec(m, rng), a0 = random_vec(m, rng), k_k = random_vec(m, rng), k_a = random_vec(m, rng),
         v0 = random_vec(m, rng);
    const WkvRowConsts c{w0.data() + 1,  a0.data() + 1, k_k.data() + 1,
                         k_a.data() + 1, v0.data() + 1, nullptr,
                         nullptr,        nullptr,       n,
                         64e-5f};
    for (bool gated : {false, true}) {
      auto dec = random_vec(m, rng), a = random_vec(m, rng), k = random_vec(m, rng), v = random_vec(m, rng),
           vf = random_vec(m, rng), vg = random_vec(m, rng);
      std::vector<float> kk(m, -1.0f);
      const auto dec0 = dec, a_in = a, k0 = k, v_in = v, vf0 = vf, vg0 = vg;
      kt.wkv_inputs(c, dec.data() + 1, a.data() + 1, k.data() + 1, kk.data() + 1, v.data() + 1, vf.data() + 1,
                    gated ? vg.data() + 1 : nullptr);
      for (int h = 0; h < n; h += 64) {
        double ss = 0;
        for (int j = h; j < h + 64; ++j) ss += std::pow(double(k0[1 + j]) * k_k[1 + j], 2);
        const double inv = 1.0 / std::max(std::sqrt(ss), 1e-12);
        for (int j = h; j < h + 64; ++j) {
          const std::size_t i = 1 + static_cast<std::size_t>(j);
          const double dec_ref = std::exp(-std::exp(-0.5) * sigmoid_ref(double(w0[i]) + dec0[i]));
          const double a_ref = sigmoid_ref(double(a_in[i]) + a0[i]);
          const double k_ref = k0[i] * (1.0 + (a_ref - 1.0) * k_a[i]);
          EXPECT_NEAR(dec[i], dec_ref, 1e-5) << "n " << n << " channel " << j;
          EXPECT_NEAR(a[i], a_ref, 1e-5) << "n " << n << " channel " << j;
          EXPECT_NEAR(kk[i], k0[i] * k_k[i] * inv, 1e-5) << "n " << n << " channel " << j;
          EXPECT_NEAR(k[i], k_ref, 1e-5 * (1 + std::fabs(k_ref))) << "n " << n << " channel " << j;
          if (gated) {
            const double g = sigmoid_ref(double(vg0[i]) + v0[i]);
            EXPECT_NEAR(vg[i], g, 1e-5);
            EXPECT_NEAR(v[i], v_in[i] + (vf0[i] - double(v_in[i])) * g, 1e-5 * (1 + std::fabs(vf0[i])));
            EXPECT_EQ(vf[i], vf0[i]);
          } else {
            EXPECT_EQ(v[i], v_in[i]);
            EXPECT_EQ(vf[i], v_in[i]);  // the first layer's values become v_first
            EXPECT_EQ(vg[i], vg0[i]);
          }
        }
      }
      EXPECT_EQ(kk[0], -1.0f);  // nothing written before the row
    }
  }
}

TEST_P(KernelIsa, WkvOutputMatchesScalarGroupNormBonusAndGate) {
  const KernelTable& kt = kernels_for(GetParam());
  std::mt19937 rng(9);
  for (int n : {64, 192}) {
    const std::size_t m = static_cast<std::size_t>(n) + 1;
    auto r_k = random_vec(m, rng), ln_w = random_vec(m, rng), ln_b = random_vec(m, rng);
    const WkvRowConsts c{nullptr,        nullptr,         nullptr,         nullptr, nullptr,
                         r_k.data() + 1, ln_w.data() + 1, ln_b.data() + 1, n,       64e-5f};
    auto y = random_vec(m, rng, 3.0f), r = random_vec(m, rng), k = random_vec(m, rng), v = random_vec(m, rng),
         g = random_vec(m, rng);
    const auto y0 = y;
    kt.wkv_output(c, y.data() + 1, r.data() + 1, k.data() + 1, v.data() + 1, g.data() + 1, nullptr);
    EXPECT_EQ(y[0], y0[0]);
    // The bf16 output: to_bf16 of the fp32 one, and nothing written around it.
    auto y16_in = y0;
    std::vector<std::uint16_t> y16(m + 1, 0xabcd), want16(m + 1, 0xabcd);
    kt.wkv_output(c, y16_in.data() + 1, r.data() + 1, k.data() + 1, v.data() + 1, g.data() + 1,
                  y16.data() + 1);
    kt.to_bf16(y.data() + 1, want16.data() + 1, n, n);
    EXPECT_EQ(y16, want16);
    for (int h = 0; h < n; h += 64) {
      double sum = 0, bonus = 0;
      for (int j = h; j < h + 64; ++j) sum += y0[1 + j], bonus += double(r[1 + j]) * k[1 + j] * r_k[1 + j];
      const double mean = sum / 64;
      double var = 0;
      for (int j = h; j < h + 64; ++j) var += (y0[1 + j] - mean) * (y0[1 + j] - mean);
      const double inv = 1.0 / std::sqrt(var / 64 + 64e-5);
      for (int j = h; j < h + 64; ++j) {
        const std::size_t i = 1 + static_cast<std::size_t>(j);
        const double want = ((y0[i] - mean) * inv * ln_w[i] + ln_b[i] + bonus * v[i]) * g[i];
        EXPECT_NEAR(y[i], want, 1e-4 * (1 + std::fabs(want))) << "n " << n << " channel " << j;
      }
    }
  }
}

TEST_P(KernelIsa, TokenMixMatchesScalarWithAndWithoutPreviousToken) {
  const KernelTable& kt = kernels_for(GetParam());
  std::mt19937 rng(5);
  for (std::size_t n : {1u, 15u, 16u, 17u, 50u, 768u}) {
    for (int outputs : {1, 6}) {
      // +1: misaligned views; each output has its own length-n row inside one buffer.
      auto u = random_vec(n + 1, rng), prev = random_vec(n + 1, rng), mixes = random_vec(6 * n + 1, rng);
      for (bool has_prev : {true, false}) {
        std::vector<float> outs(6 * n + 1, -7.0f);
        std::vector<const float*> mix;
        std::vector<float*> out;
        for (int i = 0; i < outputs; ++i)
          mix.push_back(mixes.data() + 1 + i * n), out.push_back(outs.data() + 1 + i * n);
        kt.token_mix(u.data() + 1, has_prev ? prev.data() + 1 : nullptr, n, outputs, mix.data(), out.data());
        for (int i = 0; i < outputs; ++i) {
          for (std::size_t c = 0; c < n; ++c) {
            const double p = has_prev ? prev[1 + c] : 0.0, x = u[1 + c];
            const double want = x + (p - x) * mix[i][c];
            ASSERT_NEAR(out[i][c], want, 1e-6 * (1 + std::fabs(want)))
                << "n=" << n << " output " << i << " c=" << c;
          }
        }
        for (std::size_t c = outputs * n + 1; c < outs.size(); ++c)
          ASSERT_EQ(outs[c], -7.0f) << "wrote past the outputs";
        ASSERT_EQ(outs[0], -7.0f) << "wrote before the outputs";
      }
    }
  }
}

// The bf16 rows of a token-shift kernel: each is to_bf16 of its fp32 row (n values, zero-padded to
// `padded`), and their buffer (the rows start at its element 1, filled with 0xabcd) is untouched before and
// after them.
void expect_rows_rounded(const KernelTable& kt, const std::vector<float*>& out,
                         const std::vector<std::uint16_t*>& out16, const std::vector<std::uint16_t>& buffer16,
                         std::size_t n, std::size_t padded) {
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::vector<std::uint16_t> want(padded, 0);
    kt.to_bf16(out[i], want.data(), static_cast<int>(n), static_cast<int>(padded));
    ASSERT_EQ(std::vector<std::uint16_t>(out16[i], out16[i] + padded), want) << "n=" << n << " output " << i;
  }
  ASSERT_EQ(buffer16[0], 0xabcd) << "wrote before the outputs";
  for (std::size_t c = 1 + out.size() * padded; c < buffer16.size(); ++c)
    ASSERT_EQ(buffer16[c], 0xabcd) << "wrote past the outputs";
}

// The bf16 token shift gives to_bf16's bits for token_mix's output (NaN, infinities, ties and values that
// round up into the exponent included), pads each row with zeros and writes nothing else.
TEST_P(KernelIsa, TokenMixBf16IsTokenMixRounded) {
  const KernelTable& kt = kernels_for(GetParam());
  std::mt19937 rng(6);
  for (std::size_t n : {1u, 15u, 16u, 17u, 50u, 768u}) {
    for (int outputs : {1, 6}) {
      const std::size_t padded = n + n % 2 + 2;
      auto u = random_vec(n + 1, rng), prev = random_vec(n + 1, rng), mixes = random_vec(6 * n + 1, rng);
      u[1] = NAN;
      if (n > 2) u[2] = INFINITY, prev[3] = 1.00390625f, u[3] = 1.00390625f;  // a tie (mix is irrelevant)
      if (n > 4) u[4] = prev[4] = 3.3961514e38f;                              // rounds up to infinity
      for (bool has_prev : {true, false}) {
        std::vector<const float*> mix;
        std::vector<float*> out;
        std::vector<std::uint16_t*> out16;
        std::vector<float> outs(6 * n);
        std::vector<std::uint16_t> outs16(6 * padded + 1, 0xabcd);
        for (int i = 0; i < outputs; ++i) {
          mix.push_back(mixes.data() + 1 + i * n);
          out.push_back(outs.data() + i * n);
          out16.push_back(outs16.data() + 1 + i * padded);  // misaligned by one
        }
        const float* p = has_prev ? prev.data() + 1 : nullptr;
        kt.token_mix(u.data() + 1, p, n, outputs, mix.data(), out.data());
        kt.token_mix_bf16(u.data() + 1, p, n, outputs, mix.data(), out16.data(), padded);
        ASSERT_NO_FATAL_FAILURE(expect_rows_rounded(kt, out, out16, outs16, n, padded));
      }
    }
  }
}

// RWKV-4's token shift (cur * mix + prev * keep): against double precision on odd lengths and misaligned
// rows, with and without a previous token; its bf16 form gives to_bf16's bits for the fp32 one, pads each
// row with zeros and writes nothing else.
TEST_P(KernelIsa, TokenMixKeepMatchesScalarAndItsBf16FormIsItRounded) {
  const KernelTable& kt = kernels_for(GetParam());
  std::mt19937 rng(7);
  for (std::size_t n : {1u, 15u, 16u, 17u, 50u, 768u}) {
    for (int outputs : {1, 3}) {
      const std::size_t padded = n + n % 2 + 2;
      auto cur = random_vec(n + 1, rng), prev = random_vec(n + 1, rng), mixes = random_vec(3 * n + 1, rng),
           keeps = random_vec(3 * n + 1, rng);
      for (bool has_prev : {true, false}) {
        std::vector<const float*> mix, keep;
        std::vector<float*> out;
        std::vector<std::uint16_t*> out16;
        std::vector<float> outs(3 * n + 1, -7.0f);
        std::vector<std::uint16_t> outs16(3 * padded + 1, 0xabcd);
        for (int i = 0; i < outputs; ++i) {
          mix.push_back(mixes.data() + 1 + i * n), keep.push_back(keeps.data() + 1 + i * n);
          out.push_back(outs.data() + 1 + i * n), out16.push_back(outs16.data() + 1 + i * padded);
        }
        const float* p = has_prev ? prev.data() + 1 : nullptr;
        kt.token_mix_keep(cur.data() + 1, p, n, outputs, mix.data(), keep.data(), out.data());
        kt.token_mix_keep_bf16(cur.data() + 1, p, n, outputs, mix.data(), keep.data(), out16.data(), padded);
        for (int i = 0; i < outputs; ++i) {
          for (std::size_t c = 0; c < n; ++c) {
            const double want = double(cur[1 + c]) * mix[i][c] + (p ? double(p[c]) * keep[i][c] : 0.0);
            ASSERT_NEAR(out[i][c], want, 1e-6 * (1 + std::fabs(want))) << "n=" << n << " output " << i;
          }
        }
        ASSERT_EQ(outs[0], -7.0f) << "wrote before the outputs";
        for (std::size_t c = 1 + outputs * n; c < outs.size(); ++c) ASSERT_EQ(outs[c], -7.0f) << "wrote past";
        ASSERT_NO_FATAL_FAILURE(expect_rows_rounded(kt, out, out16, outs16, n, padded));
      }
    }
  }
}

// The ISA's tile shapes (KernelTable::tiles) lie inside the kernels' contract, and the GEMM driver gives the
// same bits whatever shapes it cuts a product into, in every precision (dense rows and a sparse last row).
TEST_P(KernelIsa, GemmBitsDoNotDependOnTheTileShape) {
  const KernelTable& kt = kernels_for(GetParam());
  EXPECT_GE(kt.tiles.rows, 1);
  EXPECT_LE(kt.tiles.rows, 8);
  EXPECT_GE(kt.tiles.panels, 1);
  EXPECT_LE(kt.tiles.panels, 2);
  EXPECT_TRUE(kt.tiles.wide_panels == 1 || kt.tiles.wide_panels == 2 || kt.tiles.wide_panels == 4 ||
              kt.tiles.wide_panels == 8);
  std::mt19937 rng(77);
  ThreadPool pool(2);
  const int K = 70, N = 150;
  auto B = random_vec(static_cast<std::size_t>(K) * N, rng);
  for (WeightPrecision prec :
       {WeightPrecision::F32, WeightPrecision::BF16, WeightPrecision::Int8, WeightPrecision::W8A8}) {
    const PackedMatrix P = PackedMatrix::from_rows(B.data(), K, N, prec);
    for (int M : {1, 2, 3, 13}) {
      auto A = random_vec(static_cast<std::size_t>(M) * K, rng);
      for (int k = 0; k < K; k += 2) A[static_cast<std::size_t>(M - 1) * K + k] = 0.0f;  // a sparse last row
      std::vector<float> want(static_cast<std::size_t>(M) * N);
      gemm(kt, pool, M, A.data(), K, P, want.data(), N);
      for (TileShape shape :
           {TileShape{1, 1, 1}, TileShape{3, 2, 2}, TileShape{8, 2, 8}, TileShape{5, 1, 4}}) {
        SCOPED_TRACE(std::string(precision_name(prec)) + " M=" + std::to_string(M) + " shape " +
                     std::to_string(shape.rows) + "x" + std::to_string(shape.panels) + " wide " +
                     std::to_string(shape.wide_panels));
        KernelTable other = kt;
        other.tiles = shape;
        std::vector<float> got(want.size(), -1.0f);
        gemm(other, pool, M, A.data(), K, P, got.data(), N);
        ASSERT_EQ(got, want);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, KernelIsa, ::testing::ValuesIn(supported_isas()),
                         [](const ::testing::TestParamInfo<Isa>& p) {
                           return std::string(isa_name(p.param));
                         });

TEST(Dispatch, ForcedIsaIsHonouredOrRefused) {
  EXPECT_EQ(parse_isa("avx512"), Isa::Avx512);
  EXPECT_THROW(parse_isa("sse9"), Error);
  ::setenv("RWKV_FORCE_ISA", "generic", 1);
  EXPECT_EQ(select_isa(), Isa::Generic);
  ::setenv("RWKV_FORCE_ISA", "bogus", 1);
  EXPECT_THROW(select_isa(), Error);
  ::unsetenv("RWKV_FORCE_ISA");
  EXPECT_EQ(select_isa(), best_isa());
  EXPECT_EQ(supported_isas().front(), Isa::Generic);
}

}  // namespace
}  // namespace rwkv

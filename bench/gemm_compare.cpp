// Our GEMM against the BLAS libraries Debian packages, at the model's shapes: OpenBLAS (cblas_sgemm, its own
// threads) and oneDNN (matmul primitive, weights reordered once into the layout it picks, OpenMP threads),
// fp32 and bf16 (bf16 weights and activations, fp32 accumulation and output). Each product C[M,N] = A[M,K]·B
// runs with the weights in cache (one copy) or streamed from memory (enough copies to fill 256 MB, as in the
// model, whose fp32 block weights are 344 MB). Counters: FLOPS (GFLOP/s), and `row_alone_same`: 1 when the
// product's first row computed alone (M = 1) has the same bits as in the M-row product, the property the
// model's batch invariance needs (a text's embedding must not depend on the other texts in its batch).
//
// Run each library in its own process (their idle worker threads spin for a while and would slow the next
// library's runs on a 2-vCPU machine), e.g. scripts/gemm-compare.sh, which interleaves them.
#include <omp.h>

#include <cblas.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include <benchmark/benchmark.h>
#include <oneapi/dnnl/dnnl.hpp>

#include "bench_data.h"
#include "kernels/dispatch.h"
#include "kernels/gemm.h"
#include "util/thread_pool.h"

namespace {

using rwkv::bench::random_vec;

struct Shape {
  int M, K, N, threads;
  bool cold;
};

Shape shape_of(const benchmark::State& state) {
  return {static_cast<int>(state.range(0)), static_cast<int>(state.range(1)),
          static_cast<int>(state.range(2)), static_cast<int>(state.range(3)), state.range(4) != 0};
}

// How many copies of `bytes` of weights the shape cycles through (one when warm).
std::size_t copies(const Shape& s, std::size_t bytes) {
  return s.cold ? rwkv::bench::cold_copies(bytes) : 1;
}

void report(benchmark::State& state, const Shape& s, bool row_alone_same) {
  state.counters["FLOPS"] = benchmark::Counter(
      2.0 * s.M * s.K * s.N, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
  state.counters["row_alone_same"] = row_alone_same ? 1 : 0;
}

bool same_bits(const float* a, const float* b, int n) {
  return std::memcmp(a, b, sizeof(float) * static_cast<std::size_t>(n)) == 0;
}

// ---- ours: packed panels on our pool ----
void BM_Rwkv(benchmark::State& state, rwkv::WeightPrecision prec) {
  const Shape s = shape_of(state);
  const auto& kt = rwkv::kernels_for(rwkv::select_isa());
  rwkv::ThreadPool pool(s.threads);
  const auto A = random_vec(static_cast<std::size_t>(s.M) * s.K, 1);
  const auto B = random_vec(static_cast<std::size_t>(s.K) * s.N, 2);
  std::vector<rwkv::PackedMatrix> w{rwkv::PackedMatrix::from_rows(B.data(), s.K, s.N, prec)};
  const std::size_t n_copies = copies(s, w[0].bytes());
  while (w.size() < n_copies) w.push_back(w[0]);
  // bf16: A rounded once, outside the timed loop (as the model writes its activations).
  const bool bf16 = prec == rwkv::WeightPrecision::BF16;
  const std::size_t ld16 = static_cast<std::size_t>(w[0].k_pairs()) * 2;
  std::vector<std::uint16_t> A16(bf16 ? static_cast<std::size_t>(s.M) * ld16 : 0);
  for (int m = 0; bf16 && m < s.M; ++m)
    kt.to_bf16(A.data() + static_cast<std::size_t>(m) * s.K, A16.data() + m * ld16, s.K,
               static_cast<int>(ld16));
  std::vector<float> C(static_cast<std::size_t>(s.M) * s.N);
  auto run = [&](int rows, const rwkv::PackedMatrix& P, float* c) {
    const rwkv::GemmJob job =
        bf16 ? rwkv::GemmJob{nullptr,    0,   &P, c, static_cast<std::size_t>(s.N), rwkv::Epilogue::Store,
                             A16.data(), ld16}
             : rwkv::GemmJob{A.data(), static_cast<std::size_t>(s.K), &P, c, static_cast<std::size_t>(s.N)};
    rwkv::gemm_many(kt, pool, rows, std::span<const rwkv::GemmJob>(&job, 1));
  };
  std::size_t next = 0;
  for (auto _ : state) {
    run(s.M, w[next], C.data());
    next = (next + 1) % w.size();
    benchmark::DoNotOptimize(C.data());
  }
  // C holds the product (every copy of the weights is the same); its first row against the row alone.
  std::vector<float> alone(static_cast<std::size_t>(s.N));
  run(1, w[0], alone.data());
  report(state, s, same_bits(C.data(), alone.data(), s.N));
}

// ---- OpenBLAS: cblas_sgemm on row-major A and B (it packs both on every call, as BLAS does) ----
void BM_OpenBlas(benchmark::State& state) {
  const Shape s = shape_of(state);
  openblas_set_num_threads(s.threads);
  const auto A = random_vec(static_cast<std::size_t>(s.M) * s.K, 1);
  const std::size_t b_elems = static_cast<std::size_t>(s.K) * s.N;
  std::vector<std::vector<float>> w{random_vec(b_elems, 2)};
  const std::size_t n_copies = copies(s, b_elems * sizeof(float));
  while (w.size() < n_copies) w.push_back(w[0]);
  std::vector<float> C(static_cast<std::size_t>(s.M) * s.N);
  auto run = [&](int rows, const float* b, float* c) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, s.N, s.K, 1.0f, A.data(), s.K, b, s.N, 0.0f,
                c, s.N);
  };
  std::size_t next = 0;
  for (auto _ : state) {
    run(s.M, w[next].data(), C.data());
    next = (next + 1) % w.size();
    benchmark::DoNotOptimize(C.data());
  }
  std::vector<float> alone(static_cast<std::size_t>(s.N));  // C holds the product, as above
  run(1, w[0].data(), alone.data());
  report(state, s, same_bits(C.data(), alone.data(), s.N));
  state.SetLabel(openblas_get_corename());
}

// ---- oneDNN: a matmul primitive per row count, weights reordered once into the primitive's layout ----
struct DnnlProduct {
  dnnl::matmul prim;
  dnnl::memory::desc src_md, weights_md, dst_md;
};

DnnlProduct make_product(const dnnl::engine& eng, int M, int K, int N, dnnl::memory::data_type in) {
  using md = dnnl::memory::desc;
  using tag = dnnl::memory::format_tag;
  const md src({M, K}, in, tag::ab), weights({K, N}, in, tag::any),
      dst({M, N}, dnnl::memory::data_type::f32, tag::ab);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, weights, dst), eng);
  return {dnnl::matmul(pd), pd.src_desc(), pd.weights_desc(), pd.dst_desc()};
}

void BM_OneDnn(benchmark::State& state, dnnl::memory::data_type in) {
  const Shape s = shape_of(state);
  omp_set_num_threads(s.threads);
  const dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  const DnnlProduct prod = make_product(eng, s.M, s.K, s.N, in), one = make_product(eng, 1, s.K, s.N, in);
  using tag = dnnl::memory::format_tag;
  const auto f32 = dnnl::memory::data_type::f32;
  // A and B in fp32 (row-major), then reordered (and for bf16 rounded) into the primitive's formats.
  auto A32 = random_vec(static_cast<std::size_t>(s.M) * s.K, 1),
       B32 = random_vec(static_cast<std::size_t>(s.K) * s.N, 2);
  dnnl::memory a_f32({{s.M, s.K}, f32, tag::ab}, eng, A32.data()),
      b_f32({{s.K, s.N}, f32, tag::ab}, eng, B32.data());
  dnnl::memory src(prod.src_md, eng), dst(prod.dst_md, eng);
  dnnl::reorder(a_f32, src).execute(strm, a_f32, src);
  std::vector<dnnl::memory> w{dnnl::memory(prod.weights_md, eng)};
  dnnl::reorder(b_f32, w[0]).execute(strm, b_f32, w[0]);
  const std::size_t n_copies = copies(s, prod.weights_md.get_size());
  while (w.size() < n_copies) {
    w.emplace_back(prod.weights_md, eng);
    std::memcpy(w.back().get_data_handle(), w[0].get_data_handle(), prod.weights_md.get_size());
  }
  strm.wait();
  std::size_t next = 0;
  for (auto _ : state) {
    prod.prim.execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, w[next]}, {DNNL_ARG_DST, dst}});
    strm.wait();
    next = (next + 1) % w.size();
  }
  // dst holds the product, as above. The first row alone, through a one-row primitive (whose weights layout
  // may differ: reordered again).
  dnnl::memory src1(one.src_md, eng), dst1(one.dst_md, eng), w1(one.weights_md, eng);
  dnnl::memory a1_f32({{1, s.K}, f32, tag::ab}, eng, A32.data());
  dnnl::reorder(a1_f32, src1).execute(strm, a1_f32, src1);
  dnnl::reorder(b_f32, w1).execute(strm, b_f32, w1);
  one.prim.execute(strm, {{DNNL_ARG_SRC, src1}, {DNNL_ARG_WEIGHTS, w1}, {DNNL_ARG_DST, dst1}});
  strm.wait();
  report(state, s,
         same_bits(static_cast<const float*>(dst.get_data_handle()),
                   static_cast<const float*>(dst1.get_data_handle()), s.N));
}

// The model's products (0.1B shape): a 256-row prefill chunk, a 16-token query and a decode step, each for
// the attention projections (768 x 768), the FFN key (768 x 3072) and value (3072 x 768); and a LoRA first
// half.
void Shapes(benchmark::internal::Benchmark* b) {
  for (int cold : {0, 1})
    for (int M : {256, 16, 1}) {
      b->Args({M, 768, 768, 2, cold});
      b->Args({M, 768, 3072, 2, cold});
      b->Args({M, 3072, 768, 2, cold});
      if (M == 256) b->Args({M, 768, 64, 2, cold});
    }
  b->ArgNames({"M", "K", "N", "threads", "cold"})->UseRealTime();
}

BENCHMARK_CAPTURE(BM_Rwkv, fp32, rwkv::WeightPrecision::F32)->Apply(Shapes);
BENCHMARK_CAPTURE(BM_Rwkv, bf16, rwkv::WeightPrecision::BF16)->Apply(Shapes);
BENCHMARK(BM_OpenBlas)->Apply(Shapes);
BENCHMARK_CAPTURE(BM_OneDnn, fp32, dnnl::memory::data_type::f32)->Apply(Shapes);
BENCHMARK_CAPTURE(BM_OneDnn, bf16, dnnl::memory::data_type::bf16)->Apply(Shapes);

}  // namespace

BENCHMARK_MAIN();

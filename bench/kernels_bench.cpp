// Google Benchmark suites for the kernels at the RWKV-7 0.1B shapes: fp32 and bf16 GEMM (tokens x 768 x
// 768/3072 and the thin LoRA products), the same with weights streamed from memory (as in the model), and
// the WKV-7 recurrence, alone and for a layer's heads over the pool. Reports GFLOP/s as "FLOPS" counters.
// Run: build/kernels_bench [--benchmark_filter=...]; RWKV_FORCE_ISA selects the ISA.
#include <atomic>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench_data.h"
#include "kernels/dispatch.h"
#include "kernels/gemm.h"
#include "util/thread_pool.h"

namespace {

using rwkv::bench::random_vec;

// C = A · B at the shape in state.range(0..3) (M, K, N, threads). With `cold_weights`, each iteration
// multiplies by the next of enough copies of B to fill 256 MB, so the weights come from memory as in the
// model (whose 0.1B fp32 weights are 344 MB) instead of from cache.
// `zero_pct` percent of A's entries (chosen at random) are zero, as in a ReLU² output.
void run_gemm(benchmark::State& state, rwkv::WeightPrecision prec, bool cold_weights, int zero_pct = 0) {
  const int M = static_cast<int>(state.range(0)), K = static_cast<int>(state.range(1)),
            N = static_cast<int>(state.range(2));
  const int threads = static_cast<int>(state.range(3));
  const auto& kt = rwkv::kernels_for(rwkv::select_isa());
  rwkv::ThreadPool pool(threads);
  auto A = random_vec(static_cast<std::size_t>(M) * K), B = random_vec(static_cast<std::size_t>(K) * N);
  std::mt19937 rng(2);
  for (float& x : A)
    if (static_cast<int>(rng() % 100) < zero_pct) x = 0.0f;
  std::vector<float> C(static_cast<std::size_t>(M) * N);
  std::vector<rwkv::PackedMatrix> weights{rwkv::PackedMatrix::from_rows(B.data(), K, N, prec)};
  if (cold_weights) weights.resize(rwkv::bench::cold_copies(weights[0].bytes()), weights[0]);
  rwkv::GemmScratch scratch;
  std::size_t next = 0;
  for (auto _ : state) {
    rwkv::gemm(kt, pool, M, A.data(), K, weights[next], C.data(), N, &scratch);
    next = (next + 1) % weights.size();
    benchmark::DoNotOptimize(C.data());
  }
  state.counters["FLOPS"] = benchmark::Counter(2.0 * M * K * N, benchmark::Counter::kIsIterationInvariantRate,
                                               benchmark::Counter::kIs1000);
}

void BM_Gemm(benchmark::State& state, rwkv::WeightPrecision prec) {
  run_gemm(state, prec, false);
}

void GemmShapes(benchmark::internal::Benchmark* b) {
  for (int threads : {1, 2}) {
    b->Args({256, 768, 768, threads});
    b->Args({256, 768, 3072, threads});
    b->Args({256, 3072, 768, threads});
    b->Args({256, 768, 64, threads});
    b->Args({16, 768, 768, threads});
  }
  b->ArgNames({"M", "K", "N", "threads"})->UseRealTime();
}

BENCHMARK_CAPTURE(BM_Gemm, fp32, rwkv::WeightPrecision::F32)->Apply(GemmShapes);
BENCHMARK_CAPTURE(BM_Gemm, bf16, rwkv::WeightPrecision::BF16)->Apply(GemmShapes);
BENCHMARK_CAPTURE(BM_Gemm, int8, rwkv::WeightPrecision::Int8)->Apply(GemmShapes);
BENCHMARK_CAPTURE(BM_Gemm, w8a8, rwkv::WeightPrecision::W8A8)->Apply(GemmShapes);

// As BM_Gemm, with the weights streamed from memory (see run_gemm).
void BM_GemmColdWeights(benchmark::State& state, rwkv::WeightPrecision prec) {
  run_gemm(state, prec, true);
}

void ColdShapes(benchmark::internal::Benchmark* b) {
  for (int M : {256, 16, 1}) {
    b->Args({M, 768, 3072, 1});
    b->Args({M, 768, 768, 2});
    b->Args({M, 768, 3072, 2});
    b->Args({M, 3072, 768, 2});
    if (M == 1) b->Args({M, 64, 768, 1}), b->Args({M, 64, 768, 2});
  }
  b->ArgNames({"M", "K", "N", "threads"})->UseRealTime();
}

// The model's epilogues at the FFN shapes: relu(x·FK)² (256 x 768 x 3072) and x += h·FV (256 x 3072 x 768).
void BM_GemmEpilogue(benchmark::State& state, rwkv::Epilogue epilogue) {
  const int M = 256, K = static_cast<int>(state.range(0)), N = static_cast<int>(state.range(1));
  const auto& kt = rwkv::kernels_for(rwkv::select_isa());
  rwkv::ThreadPool pool(2);
  auto A = random_vec(static_cast<std::size_t>(M) * K), B = random_vec(static_cast<std::size_t>(K) * N);
  std::vector<float> C(static_cast<std::size_t>(M) * N, 0.0f);
  const auto P = rwkv::PackedMatrix::from_rows(B.data(), K, N);
  for (auto _ : state) {
    rwkv::gemm(kt, pool, M, A.data(), K, P, C.data(), N, nullptr, epilogue);
    benchmark::DoNotOptimize(C.data());
  }
  state.counters["FLOPS"] = benchmark::Counter(2.0 * M * K * N, benchmark::Counter::kIsIterationInvariantRate,
                                               benchmark::Counter::kIs1000);
}
BENCHMARK_CAPTURE(BM_GemmEpilogue, store, rwkv::Epilogue::Store)
    ->Args({768, 3072})
    ->Args({3072, 768})
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_GemmEpilogue, relu_squared, rwkv::Epilogue::ReluSquared)
    ->Args({768, 3072})
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_GemmEpilogue, accumulate, rwkv::Epilogue::Accumulate)->Args({3072, 768})->UseRealTime();

BENCHMARK_CAPTURE(BM_GemmColdWeights, fp32, rwkv::WeightPrecision::F32)->Apply(ColdShapes);
BENCHMARK_CAPTURE(BM_GemmColdWeights, bf16, rwkv::WeightPrecision::BF16)->Apply(ColdShapes);
BENCHMARK_CAPTURE(BM_GemmColdWeights, int8, rwkv::WeightPrecision::Int8)->Apply(ColdShapes);
BENCHMARK_CAPTURE(BM_GemmColdWeights, w8a8, rwkv::WeightPrecision::W8A8)->Apply(ColdShapes);

// Decode's FFN value product (one row, 3072 x 768, weights from memory, 2 threads) with a share of zeros in
// the row: a one-row tile sums only the non-zero entries (KernelTable::gemm_row_sparse), so the time
// should fall with the share (0: dense; about 50 for the ReLU² of a random model).
void BM_GemmZerosInRow(benchmark::State& state, rwkv::WeightPrecision prec) {
  run_gemm(state, prec, true, static_cast<int>(state.range(4)));
}
void ZeroShares(benchmark::internal::Benchmark* b) {
  for (int zeros : {0, 50, 60, 70, 80, 90}) b->Args({1, 3072, 768, 2, zeros});
  b->ArgNames({"M", "K", "N", "threads", "zero_pct"})->UseRealTime();
}
BENCHMARK_CAPTURE(BM_GemmZerosInRow, fp32, rwkv::WeightPrecision::F32)->Apply(ZeroShares);
BENCHMARK_CAPTURE(BM_GemmZerosInRow, bf16, rwkv::WeightPrecision::BF16)->Apply(ZeroShares);
BENCHMARK_CAPTURE(BM_GemmZerosInRow, int8, rwkv::WeightPrecision::Int8)->Apply(ZeroShares);
BENCHMARK_CAPTURE(BM_GemmZerosInRow, w8a8, rwkv::WeightPrecision::W8A8)->Apply(ZeroShares);

void BM_Wkv7(benchmark::State& state) {
  const int T = static_cast<int>(state.range(0));
  const auto& kt = rwkv::kernels_for(rwkv::select_isa());
  auto r = random_vec(T * 64), k = random_vec(T * 64), v = random_vec(T * 64), kk = random_vec(T * 64);
  std::vector<float> d(T * 64, 0.9f), a(T * 64, 0.5f), S(64 * 64, 0.0f), y(T * 64);
  for (auto _ : state) {
    kt.wkv7(T, 64, r.data(), d.data(), k.data(), v.data(), kk.data(), a.data(), S.data(), y.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["tokens_per_s"] = benchmark::Counter(T, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["FLOPS"] = benchmark::Counter(
      10.0 * 64 * 64 * T, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_Wkv7)->Arg(1)->Arg(16)->Arg(256);

// RWKV-4's WKV over T tokens of 768 channels (RWKV-4-Pile 169M's width), one thread: four exponentials per
// channel and token, 16 channels per vector.
void BM_Wkv4(benchmark::State& state) {
  const int T = static_cast<int>(state.range(0)), C = 768;
  const auto& kt = rwkv::kernels_for(rwkv::select_isa());
  auto k = random_vec(static_cast<std::size_t>(T) * C), v = random_vec(static_cast<std::size_t>(T) * C),
       r = random_vec(static_cast<std::size_t>(T) * C), u = random_vec(C);
  std::vector<float> w(C, -0.5f), aa(C, 0.0f), bb(C, 0.0f), pp(C, -1e38f), y(static_cast<std::size_t>(T) * C);
  for (auto _ : state) {
    kt.wkv4(T, C, C, w.data(), u.data(), k.data(), v.data(), r.data(), y.data(), aa.data(), bb.data(),
            pp.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["tokens_per_s"] = benchmark::Counter(T, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Wkv4)->Arg(1)->Arg(256);

// One layer's WKV at the 0.1B shape (12 heads, T tokens, rows of 768 as in the model) over the pool: shows
// how the recurrence scales with threads when its inputs are in cache (T = 1: decode, where a head's step
// is shorter than a claim's round trip between cores).
void BM_Wkv7Layer(benchmark::State& state) {
  const int T = static_cast<int>(state.range(1)), C = 768, H = 12;
  const auto& kt = rwkv::kernels_for(rwkv::select_isa());
  rwkv::ThreadPool pool(static_cast<int>(state.range(0)));
  auto r = random_vec(T * C), k = random_vec(T * C), v = random_vec(T * C), kk = random_vec(T * C);
  for (auto& x : k) x *= 0.3f;
  for (auto& x : kk) x *= 0.1f;
  std::vector<float> d(T * C, 0.9f), a(T * C, 0.5f), S(H * 64 * 64, 0.0f), y(T * C);
  for (auto _ : state) {
    pool.run_tasks(H, [&](std::size_t h, int) {
      const std::size_t o = h * 64;
      kt.wkv7(T, C, r.data() + o, d.data() + o, k.data() + o, v.data() + o, kk.data() + o, a.data() + o,
              S.data() + h * 4096, y.data() + o);
    });
    benchmark::DoNotOptimize(y.data());
  }
}
BENCHMARK(BM_Wkv7Layer)
    ->Args({1, 256})
    ->Args({2, 256})
    ->Args({1, 1})
    ->Args({2, 1})
    ->ArgNames({"threads", "T"})
    ->UseRealTime();

// The fixed cost of one parallel region on the pool (two empty tasks per thread): what every
// synchronisation point of a forward pass costs before any work.
void BM_PoolRegion(benchmark::State& state) {
  rwkv::ThreadPool pool(static_cast<int>(state.range(0)));
  std::atomic<int> sink{0};
  for (auto _ : state)
    pool.run_tasks(static_cast<std::size_t>(2 * pool.size()),
                   [&](std::size_t, int) { sink.fetch_add(1, std::memory_order_relaxed); });
  benchmark::DoNotOptimize(sink.load());
}
BENCHMARK(BM_PoolRegion)->Arg(1)->Arg(2)->UseRealTime();

// A region of 24 short tasks (about 0.3 µs of arithmetic each), like the LoRA second halves or the WKV
// heads of one decoded token: here the claims themselves, one per task, are the cost to watch.
void BM_PoolShortTasks(benchmark::State& state) {
  rwkv::ThreadPool pool(static_cast<int>(state.range(0)));
  std::vector<float> out(24 * 16);
  for (auto _ : state)
    pool.run_tasks(24, [&](std::size_t task, int) {
      float x = static_cast<float>(task);
      for (int i = 0; i < 256; ++i) x = x * 0.999f + 0.5f;
      out[task * 16] = x;
    });
  benchmark::DoNotOptimize(out.data());
}
BENCHMARK(BM_PoolShortTasks)->Arg(1)->Arg(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();

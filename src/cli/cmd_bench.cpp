// rwkv bench: throughput and latency of the embedding engine (or of a language model, cli/bench_lm.h) on
// this machine, as one JSON object.
// Measures the machine's FMA peak and memory bandwidth in-process, then prefill tokens/s (N documents x
// T tokens), achieved GFLOP/s and % of peak, single-query latency, decode ms/token and peak RSS.
// Timings are medians over --reps repetitions after one warm-up.
#include <unistd.h>

#include <cstdio>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <random>

#include "cli/bench_index.h"
#include "cli/bench_lm.h"
#include "cli/bench_util.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "model/synth.h"
#include "model/x070_cost.h"
#include "pipeline/embedder.h"
#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv::cli {

namespace {

struct BenchArgs {
  std::string model;
  std::string synth = "x070-embedding";  // kind of the synthetic model when --model is not given
  int layers = 12, embd = 768, vocab = 0;
  int docs = 64, tokens = 256, reps = 3, query_tokens = 16, decode_tokens = 64;
  bool all_precisions = false;
  std::vector<int> sweep;  // document lengths for the linearity check
  EngineOptions engine;
};

using Clock = std::chrono::steady_clock;

// Measures one precision mode (opts.precision) with `engine`; returns its embeddings of the prefill
// documents for comparison. Memory figures are this process's resident set (MB).
nlohmann::json bench_mode(const BenchArgs& a, const std::string& path, const EngineOptions& opts,
                          Engine& engine, const std::vector<std::vector<TokenId>>& docs,
                          std::vector<std::vector<float>>& vecs) {
  const WeightPrecision prec = opts.weight_precision();
  nlohmann::json r;
  r["rss_before_load_mb"] = resident_mb();
  auto t0 = Clock::now();
  auto ckpt = std::make_shared<const Checkpoint>(Checkpoint::open(path));
  Embedder embedder(ckpt, prec);
  r["load_seconds"] = std::chrono::duration<double>(Clock::now() - t0).count();
  const X070Model& model = embedder.model();
  const X070Cost cost = x070_cost_per_token(model.dims());
  r["flops_per_token"] = {{"matmul", cost.matmul_flops}, {"wkv", cost.wkv_flops}};
  std::vector<EmbedInput> in;
  for (const auto& d : docs) in.push_back({d});
  const int threads = engine.pool.size();
  const double peak_before = fma_peak_gflops(engine.kt, engine.pool, threads);
  const double prefill_s = median_seconds(a.reps, [&] {
    vecs = embedder.embed(in, Task::Retr, true, engine.kt, engine.pool, a.engine.chunk_tokens);
  });
  const double peak_after = fma_peak_gflops(engine.kt, engine.pool, threads);
  const double total_tokens = static_cast<double>(a.docs) * a.tokens;
  r["prefill"] = {{"docs", a.docs},
                  {"tokens_per_doc", a.tokens},
                  {"seconds", prefill_s},
                  {"tokens_per_s", total_tokens / prefill_s},
                  {"gflops", total_tokens * cost.total() / prefill_s / 1e9}};
  add_readings(r["prefill"], "fma_peak_gflops", peak_before, peak_after);
  std::mt19937 rng(2);
  std::uniform_int_distribution<TokenId> tok(1, std::min(model.vocab_size() - 2, 65529));
  std::vector<TokenId> q(static_cast<std::size_t>(a.query_tokens));
  for (auto& t : q) t = tok(rng);
  q.back() = 65535;
  EmbedInput qi{q};
  r["query_latency_ms"] =
      1e3 * median_seconds(std::max(a.reps * 5, 20), [&] {
        embedder.embed({&qi, 1}, Task::Retr, true, engine.kt, engine.pool, a.engine.chunk_tokens);
      });
  std::vector<TokenId> dec(static_cast<std::size_t>(a.decode_tokens));
  for (auto& t : dec) t = tok(rng);
  const double bw_before = read_bandwidth_gbs_in_child(engine.pool.size());
  const double decode_s = median_seconds(a.reps, [&] {
    X070State st = model.zero_state();
    for (TokenId t : dec) {
      SequenceRequest req{{&t, 1}, &st, {}, nullptr};
      model.forward({&req, 1}, engine.kt, engine.pool, 1);
    }
  });
  const double bytes = x070_weight_bytes_per_token(model.dims(), prec == WeightPrecision::F32    ? 4.0
                                                                 : prec == WeightPrecision::BF16 ? 2.0
                                                                                                 : 1.0);
  r["decode"] = {{"ms_per_token", 1e3 * decode_s / a.decode_tokens}, {"weight_bytes_per_token", bytes}};
  add_readings(r["decode"], "read_bandwidth_gbs", bw_before, read_bandwidth_gbs_in_child(engine.pool.size()));
  // The block matrices (MB = 2^20 bytes, as for RSS); embedding-table rows are read from the mapped file.
  r["weights_mb"] = bytes / 1048576.0;
  r["rss_after_runs_mb"] = resident_mb();
  return r;
}

// Linearity in length, one reading: loads the model and embeds one document of `len` tokens once, after a
// warm-up on its first 512 tokens (which sizes the workspace), in a fresh child process, so that its peak RSS
// is what a user embedding one such text sees.
nlohmann::json bench_length_once(const std::string& path, const EngineOptions& opts, int len) {
  Engine engine(opts);
  const double rss0 = resident_mb();
  auto ckpt = std::make_shared<const Checkpoint>(Checkpoint::open(path));
  Embedder embedder(ckpt, opts.weight_precision());
  std::mt19937 rng(static_cast<unsigned>(len));
  std::uniform_int_distribution<TokenId> tok(1, std::min(embedder.model().vocab_size() - 2, 65529));
  std::vector<TokenId> doc(static_cast<std::size_t>(len));
  for (auto& t : doc) t = tok(rng);
  doc.back() = 65535;
  std::vector<TokenId> head(doc.begin(), doc.begin() + std::min(len, 512));
  head.back() = 65535;
  EmbedInput warm{head}, di{doc};
  embedder.embed({&warm, 1}, Task::Retr, true, engine.kt, engine.pool, opts.chunk_tokens);
  const auto t0 = Clock::now();
  embedder.embed({&di, 1}, Task::Retr, true, engine.kt, engine.pool, opts.chunk_tokens);
  const double sec = std::chrono::duration<double>(Clock::now() - t0).count();
  return {{"tokens_per_s", len / sec}, {"rss_before_load_mb", rss0}, {"peak_rss_mb", peak_resident_mb()}};
}

// The sweep: --reps rounds, each timing every length once in its own process, so that a slow minute of a
// shared machine falls on all lengths alike rather than on one; per length the median rate over the rounds
// (each round's rate beside it) and the highest peak RSS.
nlohmann::json bench_lengths(const BenchArgs& a, const std::string& path, const EngineOptions& opts) {
  std::vector<std::vector<double>> rates(a.sweep.size());
  nlohmann::json out = nlohmann::json::array();
  for (int len : a.sweep) out.push_back({{"tokens", len}, {"peak_rss_mb", 0.0}});
  for (int round = 0; round < a.reps; ++round) {
    for (std::size_t i = 0; i < a.sweep.size(); ++i) {
      const nlohmann::json one = run_in_child([&] { return bench_length_once(path, opts, a.sweep[i]); });
      rates[i].push_back(one["tokens_per_s"].get<double>());
      out[i]["rss_before_load_mb"] = one["rss_before_load_mb"];
      out[i]["peak_rss_mb"] = std::max(out[i]["peak_rss_mb"].get<double>(), one["peak_rss_mb"].get<double>());
    }
  }
  for (std::size_t i = 0; i < a.sweep.size(); ++i) {
    out[i]["tokens_per_s_rounds"] = rates[i];
    out[i]["tokens_per_s"] = median(rates[i]);
  }
  return out;
}

void finish_report(nlohmann::json& r, Engine& engine, const std::filesystem::path& tmp);

void run_bench(const BenchArgs& a) {
  namespace fs = std::filesystem;
  nlohmann::json r;
  std::string path = a.model;
  fs::path tmp;
  if (path.empty()) {
    tmp = fs::temp_directory_path() / str("rwkv-bench-", ::getpid());
    fs::create_directories(tmp);
    path = (tmp / str("synthetic-", a.synth, ".safetensors")).string();
    SynthSpec s;
    s.kind = a.synth, s.layers = a.layers, s.embd = a.embd, s.vocab = a.vocab, s.seed = 5;
    write_synthetic_model(s, path);
    r["model"] = {{"synthetic", a.synth}, {"layers", a.layers}, {"embd", a.embd}, {"stored_dtype", "bf16"}};
  } else {
    r["model"] = {{"path", path}};
  }
  Engine engine(a.engine);
  std::vector<std::string> modes;
  if (a.all_precisions) {
    modes = {"fp32", "bf16", "int8", "w8a8"};
  } else {
    modes = {a.engine.precision};
  }
  if (is_language_model_file(path)) {  // RWKV-4 / RWKV-7 language model: prompts, decode, logits accuracy
    r["modes"] =
        bench_language_model(path, modes, {a.docs, a.tokens, a.reps, a.decode_tokens, a.engine.chunk_tokens},
                             a.engine, r["model"]);
    return finish_report(r, engine, tmp);
  }
  std::mt19937 rng(1);
  std::uniform_int_distribution<TokenId> tok(1, 65529);
  std::vector<std::vector<TokenId>> docs(static_cast<std::size_t>(a.docs));
  for (auto& d : docs) {
    d.resize(static_cast<std::size_t>(a.tokens));
    for (auto& t : d) t = tok(rng);
    d.back() = 65535;
  }
  std::vector<std::vector<std::vector<float>>> vecs(modes.size());
  // Each mode in its own process: its RSS figures are its own, not the previous mode's freed heap.
  for (std::size_t i = 0; i < modes.size(); ++i) {
    EngineOptions o = a.engine;
    o.precision = modes[i];
    nlohmann::json m = run_in_child([&] {
      Engine child(o);
      std::vector<std::vector<float>> v;
      nlohmann::json res = bench_mode(a, path, o, child, docs, v);
      res["peak_rss_mb"] = peak_resident_mb();
      res["embeddings"] = v;
      return res;
    });
    vecs[i] = m["embeddings"].get<std::vector<std::vector<float>>>();
    m.erase("embeddings");
    r["model"]["flops_per_token"] = m["flops_per_token"];
    m.erase("flops_per_token");
    if (!a.sweep.empty()) m["length_sweep"] = bench_lengths(a, path, o);
    r["modes"][modes[i]] = std::move(m);
  }
  if (modes.size() > 1) {  // accuracy of each mode against fp32 on the same documents
    for (std::size_t i = 1; i < modes.size(); ++i) {
      double worst = 1, sum = 0;
      for (std::size_t d = 0; d < docs.size(); ++d) {
        double dot = 0;
        for (std::size_t c = 0; c < vecs[0][d].size(); ++c) dot += double(vecs[0][d][c]) * vecs[i][d][c];
        worst = std::min(worst, dot), sum += dot;
      }
      r["modes"][modes[i]]["cosine_vs_fp32"] = {{"min", worst}, {"mean", sum / docs.size()}};
    }
  }
  finish_report(r, engine, tmp);
}

// Adds the machine's measured limits and each mode's distance to them, prints the report, removes `tmp`.
void finish_report(nlohmann::json& r, Engine& engine, const std::filesystem::path& tmp) {
  // Machine limits last, so their buffers do not count in the model's peak RSS.
  const int threads = engine.pool.size();
  const double peak1 = fma_peak_gflops(engine.kt, engine.pool, 1),
               peak = fma_peak_gflops(engine.kt, engine.pool, threads);
  const double bw = read_bandwidth_gbs(engine.pool);
  r["machine"] = {{"isa", isa_name(engine.kt.isa)},
                  {"threads", threads},
                  {"fma_peak_gflops_1_thread", peak1},
                  {"fma_peak_gflops_all_threads", peak},
                  {"read_bandwidth_gbs", bw}};
  // A mode's prefill is measured against the higher of the FMA-peak readings taken just before and just
  // after it, and its decode bound uses the higher of the two bandwidth readings taken just before and just
  // after that decode: on a shared machine the core's clock and the memory system's speed move within
  // minutes, and the closing readings come minutes after the first mode ran. The figures against the
  // run's closing readings are kept beside them.
  for (auto& [name, m] : r["modes"].items()) {
    nlohmann::json& pre = m["prefill"];
    const double gflops = pre["gflops"].get<double>();
    pre["pct_of_fp32_peak"] = 100 * gflops / pre.at("fma_peak_gflops").get<double>();
    pre["pct_of_fp32_peak_at_run_end"] = 100 * gflops / peak;
    nlohmann::json& dec = m["decode"];
    const double bytes = dec["weight_bytes_per_token"].get<double>(), ms = dec["ms_per_token"].get<double>();
    const double own = dec.at("read_bandwidth_gbs").get<double>();
    dec["bandwidth_bound_ms"] = 1e3 * bytes / (own * 1e9);
    dec["times_bound"] = ms / dec["bandwidth_bound_ms"].get<double>();
    dec["bandwidth_bound_ms_at_run_end"] = 1e3 * bytes / (bw * 1e9);
    dec["times_bound_at_run_end"] = ms / dec["bandwidth_bound_ms_at_run_end"].get<double>();
  }
  print_line(r);
  if (!tmp.empty()) std::filesystem::remove_all(tmp);
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  auto* cmd = app.add_subcommand(
      "bench",
      "Benchmark the embedding or language-model engine (peak FLOP/s, bandwidth, prefill, latency, decode, "
      "RSS); prints JSON");
  cmd->add_option("--model", args->model,
                  "Embedding or language-model checkpoint (default: a synthetic model of --layers x --embd)");
  cmd->add_option(
      "--synth", args->synth,
      "Kind of the synthetic model: x070-embedding (default), x040-lm or x070-lm (language models "
      "report prompt prefill, decode and logit accuracy)");
  cmd->add_option("--vocab", args->vocab, "Synthetic model vocabulary (0 = the kind's default)")
      ->check(CLI::Range(0, 1 << 20));
  cmd->add_option("--layers", args->layers, "Synthetic model layers")->check(CLI::Range(1, 64));
  cmd->add_option("--embd", args->embd, "Synthetic model width (multiple of 64)")
      ->check(CLI::Range(64, 4096));
  cmd->add_option("--docs", args->docs, "Prefill: documents (language models: prompts) per batch")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--tokens", args->tokens, "Prefill: tokens per document or prompt")
      ->check(CLI::Range(2, 1 << 20));
  cmd->add_option("--reps", args->reps, "Timed repetitions (median reported)")->check(CLI::Range(1, 100));
  cmd->add_option("--query-tokens", args->query_tokens, "Latency: tokens in the single query")
      ->check(CLI::Range(1, 1 << 16));
  cmd->add_option("--decode-tokens", args->decode_tokens, "Decode: tokens fed one at a time")
      ->check(CLI::Range(1, 1 << 16));
  cmd->add_option("--length-sweep", args->sweep,
                  "Also time one document of each of these lengths (e.g. 512,16384): --reps rounds, each "
                  "length once per round in a fresh process; the median rate and the highest peak RSS")
      ->delimiter(',')
      ->check(CLI::Range(2, 1 << 22));
  cmd->add_flag("--all-precisions", args->all_precisions,
                "Measure every precision mode (fp32, bf16, int8, w8a8), each in its own process, and their "
                "accuracy vs fp32");
  args->engine.add_to(*cmd);
  auto index_bench = add_index_bench_options(*cmd);  // cli/bench_index.h
  cmd->callback([args, index_bench] {
    if (index_bench->enabled)
      run_index_bench(*index_bench, args->model, args->layers, args->embd, args->engine);
    else
      run_bench(*args);
  });
}

}  // namespace rwkv::cli

// Language-model benchmark (see bench_lm.h).
#include "cli/bench_lm.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>

#include "cli/bench_util.h"
#include "cli/common.h"
#include "model/detect.h"
#include "model/language_model.h"
#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv::cli {

namespace {

using Clock = std::chrono::steady_clock;

int argmax(const float* v, int n) {
  return static_cast<int>(std::max_element(v, v + n) - v);
}

}  // namespace

bool is_language_model_file(const std::string& path) {
  const std::string kind = detect_model(Checkpoint::open(path)).kind;
  return kind == "x040-lm" || kind == "x070-lm";
}

namespace {

// One mode's figures, run in a process of its own. The first mode writes its batched prefill logits to
// `reference` (raw floats); a later mode compares its own with them, one prompt at a time.
nlohmann::json bench_mode(const std::string& path, const std::string& mode, const LmBenchOptions& o,
                          const EngineOptions& base, const std::filesystem::path& reference,
                          bool write_reference, nlohmann::json& model_info) {
  EngineOptions eo = base;
  eo.precision = mode;
  nlohmann::json r;
  const double rss0 = resident_mb();
  r["rss_before_load_mb"] = rss0;
  Engine engine(eo);
  const KernelTable& kt = engine.kt;
  ThreadPool& pool = engine.pool;
  const auto t0 = Clock::now();
  auto lm = load_language_model(std::make_shared<const Checkpoint>(Checkpoint::open(path)),
                                eo.weight_precision(), o.chunk_tokens);
  r["load_seconds"] = std::chrono::duration<double>(Clock::now() - t0).count();
  const int V = lm->vocab_size();
  const LmCost cost = lm->cost_per_token();
  model_info["arch"] = lm->arch();
  model_info["vocab"] = V;
  model_info["flops_per_token"] = {{"blocks", cost.block_flops}, {"head", cost.head_flops}};

  std::mt19937 rng(3);
  std::uniform_int_distribution<TokenId> tok(0, V - 1);
  std::vector<std::vector<TokenId>> prompts(static_cast<std::size_t>(o.prompts));
  for (auto& p : prompts) {
    p.resize(static_cast<std::size_t>(o.tokens));
    for (auto& t : p) t = tok(rng);
  }
  std::vector<float> logits(prompts.size() * static_cast<std::size_t>(V));
  auto prefill = [&] {
    std::vector<std::unique_ptr<LmState>> states;
    std::vector<LmRequest> batch;
    for (std::size_t i = 0; i < prompts.size(); ++i) {
      states.push_back(lm->zero_state());
      batch.push_back({prompts[i], states.back().get(), logits.data() + i * V});
    }
    lm->forward_batch(batch, kt, pool);
  };
  const double peak_before = fma_peak_gflops(kt, pool, pool.size());
  const double prefill_s = median_seconds(o.reps, prefill);
  const double peak_after = fma_peak_gflops(kt, pool, pool.size());
  const double total = static_cast<double>(o.prompts) * o.tokens;
  r["prefill"] = {{"prompts", o.prompts},
                  {"tokens_per_prompt", o.tokens},
                  {"seconds", prefill_s},
                  {"tokens_per_s", total / prefill_s},
                  {"gflops", (total * cost.block_flops + o.prompts * cost.head_flops) / prefill_s / 1e9}};
  add_readings(r["prefill"], "fma_peak_gflops", peak_before, peak_after);
  const double prompt_s = median_seconds(o.reps, [&] {
    auto st = lm->zero_state();
    lm->forward(prompts[0], *st, logits.data(), kt, pool);
  });
  r["prompt"] = {{"tokens", o.tokens}, {"seconds", prompt_s}, {"tokens_per_s", o.tokens / prompt_s}};
  std::vector<float> step(static_cast<std::size_t>(V));
  const double bw_before = read_bandwidth_gbs_in_child(pool.size());
  const double decode_s = median_seconds(o.reps, [&] {
    auto st = lm->zero_state();
    TokenId next = prompts[0][0];
    for (int i = 0; i < o.decode_tokens; ++i) {
      lm->forward({&next, 1}, *st, step.data(), kt, pool);
      next = argmax(step.data(), V);  // greedy, as a generation loop would
    }
  });
  r["decode"] = {{"ms_per_token", 1e3 * decode_s / o.decode_tokens},
                 {"weight_bytes_per_token", cost.weight_bytes}};
  add_readings(r["decode"], "read_bandwidth_gbs", bw_before, read_bandwidth_gbs_in_child(pool.size()));
  r["rss_mb"] = resident_mb() - rss0;
  prefill();  // the logits of the batched prefill, for the accuracy against the first mode
  const std::size_t bytes = logits.size() * sizeof(float);
  if (write_reference) {
    std::ofstream f(reference, std::ios::binary);
    f.write(reinterpret_cast<const char*>(logits.data()), static_cast<std::streamsize>(bytes));
    if (!f) throw Error(str("bench: cannot write ", reference.string()));
  } else {
    std::ifstream f(reference, std::ios::binary);
    std::vector<float> want(static_cast<std::size_t>(V));
    double worst = 0;
    int same = 0;
    for (std::size_t i = 0; i < prompts.size(); ++i) {
      f.read(reinterpret_cast<char*>(want.data()), static_cast<std::streamsize>(want.size() * sizeof(float)));
      if (!f) throw Error(str("bench: cannot read the reference logits from ", reference.string()));
      const float* got = logits.data() + i * V;
      for (int v = 0; v < V; ++v) worst = std::max(worst, std::fabs(static_cast<double>(want[v]) - got[v]));
      same += argmax(want.data(), V) == argmax(got, V);
    }
    r["max_abs_logit_error"] = worst;
    r["argmax_agreement"] = same / double(prompts.size());
  }
  r["peak_rss_mb"] = peak_resident_mb();
  return r;
}

}  // namespace

nlohmann::json bench_language_model(const std::string& path, const std::vector<std::string>& modes,
                                    const LmBenchOptions& o, const EngineOptions& engine,
                                    nlohmann::json& model_info) {
  nlohmann::json out = nlohmann::json::object();
  const std::filesystem::path reference =
      std::filesystem::temp_directory_path() / str("rwkv-bench-logits-", ::getpid(), ".f32");
  try {
    for (std::size_t i = 0; i < modes.size(); ++i) {
      // Each mode in its own process: its memory figures are its own, not the previous mode's freed heap.
      nlohmann::json r = run_in_child([&] {
        nlohmann::json info;
        nlohmann::json res = bench_mode(path, modes[i], o, engine, reference, i == 0, info);
        res["model_info"] = info;
        return res;
      });
      for (const auto& [k, v] : r["model_info"].items()) model_info[k] = v;
      r.erase("model_info");
      if (i > 0) {
        r[str("vs_", modes[0])] = {{"max_abs_logit_error", r["max_abs_logit_error"]},
                                   {"argmax_agreement", r["argmax_agreement"]}};
        r.erase("max_abs_logit_error");
        r.erase("argmax_agreement");
      }
      out[modes[i]] = std::move(r);
    }
  } catch (...) {
    std::filesystem::remove(reference);
    throw;
  }
  std::filesystem::remove(reference);
  return out;
}

}  // namespace rwkv::cli

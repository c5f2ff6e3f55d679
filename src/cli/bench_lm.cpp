// Language-model benchmark (see bench_lm.h).
#include "cli/bench_lm.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>

#include "cli/bench_util.h"
#include "cli/common.h"
#include "model/detect.h"
#include "model/language_model.h"
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

nlohmann::json bench_language_model(const std::string& path, const std::vector<std::string>& modes,
                                    const LmBenchOptions& o, const KernelTable& kt, ThreadPool& pool,
                                    nlohmann::json& model_info) {
  nlohmann::json out = nlohmann::json::object();
  std::vector<float> first_logits;  // batched prefill logits of the first mode, for accuracy
  for (const std::string& mode : modes) {
    EngineOptions eo;
    eo.precision = mode;
    nlohmann::json r;
    const double rss0 = resident_mb();
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
    const double prefill_s = median_seconds(o.reps, [&] {
      std::vector<std::unique_ptr<LmState>> states;
      std::vector<LmRequest> batch;
      for (std::size_t i = 0; i < prompts.size(); ++i) {
        states.push_back(lm->zero_state());
        batch.push_back({prompts[i], states.back().get(), logits.data() + i * V});
      }
      lm->forward_batch(batch, kt, pool);
    });
    const double total = static_cast<double>(o.prompts) * o.tokens;
    r["prefill"] = {{"prompts", o.prompts},
                    {"tokens_per_prompt", o.tokens},
                    {"seconds", prefill_s},
                    {"tokens_per_s", total / prefill_s},
                    {"gflops", (total * cost.block_flops + o.prompts * cost.head_flops) / prefill_s / 1e9}};
    const double prompt_s = median_seconds(o.reps, [&] {
      auto st = lm->zero_state();
      lm->forward(prompts[0], *st, logits.data(), kt, pool);
    });
    r["prompt"] = {{"tokens", o.tokens}, {"seconds", prompt_s}, {"tokens_per_s", o.tokens / prompt_s}};
    std::vector<float> step(static_cast<std::size_t>(V));
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
    r["rss_mb"] = resident_mb() - rss0;
    // Accuracy of this mode against the first one, on the batched prefill logits.
    {
      std::vector<std::unique_ptr<LmState>> states;
      std::vector<LmRequest> batch;
      for (std::size_t i = 0; i < prompts.size(); ++i) {
        states.push_back(lm->zero_state());
        batch.push_back({prompts[i], states.back().get(), logits.data() + i * V});
      }
      lm->forward_batch(batch, kt, pool);
    }
    if (first_logits.empty()) {
      first_logits = logits;
    } else {
      double worst = 0;
      int same = 0;
      for (std::size_t i = 0; i < prompts.size(); ++i) {
        const float *a = first_logits.data() + i * V, *b = logits.data() + i * V;
        for (int v = 0; v < V; ++v) worst = std::max(worst, std::fabs(static_cast<double>(a[v]) - b[v]));
        same += argmax(a, V) == argmax(b, V);
      }
      r[str("vs_", modes[0])] = {{"max_abs_logit_error", worst},
                                 {"argmax_agreement", same / double(prompts.size())}};
    }
    out[mode] = r;
  }
  return out;
}

}  // namespace rwkv::cli

// RWKV-4 invariances: any split of a prompt into calls, any chunk size, any batch composition and thread
// count give the same logits and state bit for bit; bf16 and fp32 copies of a checkpoint load to the same
// model; the bf16 weight mode stays close to fp32. On every ISA this CPU supports.
#include <cmath>

#include "test_x040_lm_support.h"

namespace rwkv::test {
namespace {

class X040Invariance : public ::testing::TestWithParam<Isa> {
 protected:
  const KernelTable& kt() { return kernels_for(GetParam()); }
  ThreadPool pool{2};
};

struct Result {
  std::vector<float> logits;
  std::vector<float> state;
};

Result one_pass(const X040Model& m, const std::vector<TokenId>& ids, const KernelTable& kt, ThreadPool& pool,
                int chunk = 256) {
  X040State st = m.zero_x040_state();
  Result r{std::vector<float>(static_cast<std::size_t>(m.vocab_size())), {}};
  const int last = static_cast<int>(ids.size()) - 1;
  X040Request req{ids, &st, {&last, 1}, r.logits.data(), nullptr};
  m.forward_sequences({&req, 1}, kt, pool, chunk);
  r.state = st.values();
  return r;
}

TEST_P(X040Invariance, AnySplitIntoCallsOrChunksEqualsOnePass) {
  const auto& g = x040_golden();
  const X040Model& m = *g.model;
  const auto ids = ids_of(g.manifest["prompts"]["items"][1]["ids"]);  // dragons, 25 tokens
  const Result ref = one_pass(m, ids, kt(), pool);
  EXPECT_TRUE(AllClose(ref.logits, row_of(load_npy(golden("rwkv4/prompts/logits.npy")), 1), 2e-4));
  for (int chunk : {1, 3, 7, 16, 24, 25}) {
    const Result r = one_pass(m, ids, kt(), pool, chunk);
    EXPECT_EQ(r.logits, ref.logits) << "chunk " << chunk;
    EXPECT_EQ(r.state, ref.state) << "chunk " << chunk;
  }
  const std::vector<std::vector<std::size_t>> splits = {{12}, {1}, {24}, {5, 10, 15, 20}, {2, 3, 4, 17}};
  for (const auto& cuts : splits) {
    auto st = m.zero_state();
    std::vector<float> logits(static_cast<std::size_t>(m.vocab_size()));
    std::size_t begin = 0;
    for (std::size_t i = 0; i <= cuts.size(); ++i) {
      const std::size_t end = i < cuts.size() ? cuts[i] : ids.size();
      m.forward(std::span<const TokenId>(ids).subspan(begin, end - begin), *st, logits.data(), kt(), pool);
      begin = end;
    }
    EXPECT_EQ(logits, ref.logits) << "split at " << cuts[0] << " (" << cuts.size() << " cuts)";
    EXPECT_EQ(static_cast<X040State&>(*st).values(), ref.state);
  }
}

TEST_P(X040Invariance, BatchCompositionChunkAndThreadsDoNotChangeResults) {
  const auto& g = x040_golden();
  const X040Model& m = *g.model;
  std::vector<std::vector<TokenId>> prompts;
  for (const auto& it : g.manifest["prompts"]["items"]) prompts.push_back(ids_of(it["ids"]));
  std::vector<Result> single;
  for (const auto& p : prompts) single.push_back(one_pass(m, p, kt(), pool));
  ThreadPool one_thread(1);
  for (int chunk : {1, 5, 64, 512}) {
    for (ThreadPool* tp : {&pool, &one_thread}) {
      SCOPED_TRACE(::testing::Message() << "chunk " << chunk << ", threads " << tp->size());
      // Reverse order so every sequence lands at other rows than in the single runs.
      std::vector<X040State> states(prompts.size(), m.zero_x040_state());
      std::vector<std::vector<float>> logits(prompts.size(), std::vector<float>(single[0].logits.size()));
      std::vector<int> last(prompts.size());
      std::vector<X040Request> batch;
      for (std::size_t i = prompts.size(); i-- > 0;) {
        last[i] = static_cast<int>(prompts[i].size()) - 1;
        batch.push_back({prompts[i], &states[i], {&last[i], 1}, logits[i].data(), nullptr});
      }
      m.forward_sequences(batch, kt(), *tp, chunk);
      for (std::size_t i = 0; i < prompts.size(); ++i) {
        EXPECT_EQ(logits[i], single[i].logits) << "prompt " << i;
        EXPECT_EQ(states[i].values(), single[i].state) << "prompt " << i;
      }
    }
  }
  // The LanguageModel entry point with mixed lengths and a sequence that wants no logits.
  std::vector<std::unique_ptr<LmState>> states;
  std::vector<std::vector<float>> logits(prompts.size(), std::vector<float>(single[0].logits.size()));
  std::vector<LmRequest> batch;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    states.push_back(m.zero_state());
    batch.push_back({prompts[i], states.back().get(), i == 2 ? nullptr : logits[i].data()});
  }
  m.forward_batch(batch, kt(), pool);
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    if (i != 2) {
      EXPECT_EQ(logits[i], single[i].logits) << "prompt " << i;
    }
    EXPECT_EQ(static_cast<X040State&>(*states[i]).values(), single[i].state) << "prompt " << i;
  }
}

TEST_P(X040Invariance, Bf16AndFp32CheckpointsGiveIdenticalResults) {
  const auto& g = x040_golden();
  TempDir tmp;
  const auto path = tmp.path() / "rwkv4-fp32.pth";
  write_copy(*g.ckpt, path, /*to_f32=*/true);
  auto ckpt = std::make_shared<const Checkpoint>(Checkpoint::open(path));
  ASSERT_EQ(ckpt->get("head.weight").dtype, DType::F32);
  const X040Model fp32_file(ckpt);
  for (const auto& it : g.manifest["prompts"]["items"]) {
    const auto ids = ids_of(it["ids"]);
    const Result a = one_pass(*g.model, ids, kt(), pool), b = one_pass(fp32_file, ids, kt(), pool);
    EXPECT_EQ(a.logits, b.logits) << it["name"];
    EXPECT_EQ(a.state, b.state) << it["name"];
  }
}

// The bf16 weight mode rounds weights and activations of every product: measured against fp32 on the
// golden prompts (worst logit error 0.045 on this model; the bound leaves 4x).
TEST_P(X040Invariance, Bf16WeightModeCloseToFp32) {
  const auto& g = x040_golden();
  const X040Model bf16(g.ckpt, WeightPrecision::BF16);
  double worst = 0;
  for (const auto& it : g.manifest["prompts"]["items"]) {
    const auto ids = ids_of(it["ids"]);
    const Result a = one_pass(*g.model, ids, kt(), pool), b = one_pass(bf16, ids, kt(), pool);
    for (std::size_t i = 0; i < a.logits.size(); ++i)
      worst = std::max(worst, std::fabs(static_cast<double>(a.logits[i]) - b.logits[i]));
    if (it["top1_minus_top2_logit"].get<double>() > 0.5) {
      EXPECT_EQ(argmax(a.logits), argmax(b.logits)) << it["name"];
    }
  }
  RecordProperty("bf16_max_abs_logit_error", std::to_string(worst));
  EXPECT_LT(worst, 0.2);
  EXPECT_GT(worst, 0.0) << "bf16 mode must actually round";
}

// The int8 modes: logits against fp32 on the golden prompts (worst error under `bound`, measured with 2x to
// spare), and the golden greedy continuations fed token by token: the top-1 must be the golden token at
// every step whose reference top-1 lead exceeds twice that bound (at a smaller lead, int8 rounding may
// legitimately pick the runner-up; the golden token is fed either way).
void expect_int8_mode_close_to_fp32(WeightPrecision precision, double bound, const KernelTable& kt,
                                    ThreadPool& pool) {
  const auto& g = x040_golden();
  const X040Model quantised(g.ckpt, precision);
  const std::string name = precision_name(precision);
  double worst = 0;
  for (const auto& it : g.manifest["prompts"]["items"]) {
    const auto ids = ids_of(it["ids"]);
    const Result a = one_pass(*g.model, ids, kt, pool), b = one_pass(quantised, ids, kt, pool);
    for (std::size_t i = 0; i < a.logits.size(); ++i)
      worst = std::max(worst, std::fabs(static_cast<double>(a.logits[i]) - b.logits[i]));
  }
  ::testing::Test::RecordProperty(name + "_max_abs_logit_error", std::to_string(worst));
  EXPECT_LT(worst, bound);
  EXPECT_GT(worst, 0.0) << name << " mode must actually quantise";
  const LanguageModel& lm = quantised;
  int checked = 0;
  for (const auto& [item_name, item] : g.manifest["greedy"]["items"].items()) {
    auto state = lm.zero_state();
    std::vector<float> logits(static_cast<std::size_t>(lm.vocab_size()));
    std::vector<TokenId> feed = ids_of(item["prompt_ids"]);
    const auto want = ids_of(item["generated_ids"]);
    const auto& leads = item["per_step_top1_minus_top2_logit"];
    for (std::size_t step = 0; step < want.size(); ++step) {
      lm.forward(feed, *state, logits.data(), kt, pool);
      if (leads[step].get<double>() > 2 * bound) {
        ASSERT_EQ(argmax(logits), want[step]) << item_name << " step " << step;
        ++checked;
      }
      feed = {want[step]};
    }
  }
  ::testing::Test::RecordProperty(name + "_greedy_steps_checked", std::to_string(checked));
  EXPECT_GT(checked, 0);
}

// int8 weights (one scale per output channel), fp32 activations: worst logit error measured 0.22.
TEST_P(X040Invariance, Int8WeightModeCloseToFp32AndGreedyFollowsGolden) {
  expect_int8_mode_close_to_fp32(WeightPrecision::Int8, 0.45, kt(), pool);
}

// w8a8 (each product's input rows quantised to int8 too): worst logit error measured 0.35.
TEST_P(X040Invariance, W8A8ModeCloseToFp32AndGreedyFollowsGolden) {
  expect_int8_mode_close_to_fp32(WeightPrecision::W8A8, 0.7, kt(), pool);
}

INSTANTIATE_TEST_SUITE_P(AllIsas, X040Invariance, ::testing::ValuesIn(supported_isas()), IsaParamName);

}  // namespace
}  // namespace rwkv::test

// RWKV-7 language model golden tests against shared/golden/x070-lm (float64 reference): final logits and
// states of every prompt, token-wise logits (token mode == sequence mode), the residual trace, greedy
// continuations, split and batch invariance, on every ISA this CPU supports. Tolerances are those of
// shared/golden/x070-lm/README.md.
#include "residual_recorder.h"
#include "test_x040_lm_support.h"

namespace rwkv::test {
namespace {

constexpr double kLogitsTol = 2e-4;
constexpr double kState0Tol = 1e-4;
constexpr double kState1Tol = 5e-4;
constexpr double kTraceTol = 1e-4;
constexpr double kTopProbTol = 1e-5;

class X070LmGoldenTest : public ::testing::TestWithParam<Isa> {
 protected:
  const KernelTable& kt() { return kernels_for(GetParam()); }
  ThreadPool pool{2};
};

// Slice p of an array shaped [P, ...] as a flat vector.
std::vector<float> slice(const NpyArray& a, std::size_t p) {
  const std::size_t n = a.data.size() / static_cast<std::size_t>(a.shape[0]);
  return std::vector<float>(a.data.begin() + static_cast<long>(p * n),
                            a.data.begin() + static_cast<long>((p + 1) * n));
}

TEST_P(X070LmGoldenTest, PromptLogitsAndStates) {
  const auto& g = x070_lm_golden();
  const LanguageModel& lm = *g.model;
  const NpyArray logits = load_npy(golden("x070-lm/prompts/logits.npy"));
  const NpyArray state0 = load_npy(golden("x070-lm/prompts/state0.npy"));
  const NpyArray state1 = load_npy(golden("x070-lm/prompts/state1.npy"));
  for (const auto& it : g.manifest["prompts"]["items"]) {
    const std::size_t p = it["row"].get<std::size_t>();
    SCOPED_TRACE(it["name"].get<std::string>());
    auto st = lm.zero_state();
    std::vector<float> out(static_cast<std::size_t>(lm.vocab_size()));
    lm.forward(ids_of(it["ids"]), *st, out.data(), kt(), pool);
    EXPECT_TRUE(AllClose(out, row_of(logits, p), kLogitsTol));
    EXPECT_EQ(argmax(out), it["argmax"].get<int>());
    const X070State& s = static_cast<X070LmState&>(*st).state;
    EXPECT_TRUE(AllClose(s.shift, slice(state0, p), kState0Tol));
    EXPECT_TRUE(AllClose(s.wkv, slice(state1, p), kState1Tol));
  }
}

TEST_P(X070LmGoldenTest, TokenwiseLogitsAndTokenModeEqualsSequenceMode) {
  const auto& g = x070_lm_golden();
  const X070LanguageModel& lm = *g.model;
  const auto ids = ids_of(g.manifest["tokenwise"]["ids"]);
  const NpyArray want = load_npy(golden("x070-lm/tokenwise/logits.npy"));
  const std::size_t V = static_cast<std::size_t>(lm.vocab_size()), T = ids.size();
  const std::size_t C = static_cast<std::size_t>(lm.backbone().dims().n_embd);
  auto token_state = lm.zero_state();
  std::vector<float> token_logits(T * V);
  for (std::size_t t = 0; t < T; ++t) {
    lm.forward({&ids[t], 1}, *token_state, token_logits.data() + t * V, kt(), pool);
    EXPECT_TRUE(AllClose(token_logits.data() + t * V, want.data.data() + t * V, V, kLogitsTol))
        << "token " << t;
  }
  // Sequence mode with every position's ln_out row, then the head over all rows at once.
  X070State seq_state = lm.backbone().zero_state();
  const std::vector<int> all = positions(T);
  std::vector<float> hidden(T * C), seq_logits(T * V);
  SequenceRequest req{ids, &seq_state, all, hidden.data()};
  lm.backbone().forward({&req, 1}, kt(), pool);
  lm.head_logits(static_cast<int>(T), hidden.data(), seq_logits.data(), kt(), pool);
  EXPECT_EQ(seq_logits, token_logits);
  EXPECT_EQ(seq_state.wkv, static_cast<X070LmState&>(*token_state).state.wkv);
  EXPECT_EQ(seq_state.shift, static_cast<X070LmState&>(*token_state).state.shift);
}

TEST_P(X070LmGoldenTest, ResidualTrace) {
  const auto& g = x070_lm_golden();
  const X070Model& m = g.model->backbone();
  const auto ids = ids_of(g.manifest["trace"]["ids"]);
  const int C = m.dims().n_embd, T = static_cast<int>(ids.size());
  ResidualRecorder recorder(m.dims().n_layer, T, C);
  const ResidualTrace trace = recorder.hook();
  std::vector<float> out(static_cast<std::size_t>(T) * C);
  X070State st = m.zero_state();
  const std::vector<int> pos = positions(ids.size());
  SequenceRequest req{ids, &st, pos, out.data()};
  m.forward({&req, 1}, kt(), pool, 256, &trace);
  recorder.expect_matches(golden("x070-lm/trace"), out, kTraceTol);
}

TEST_P(X070LmGoldenTest, GreedyContinuationsAndTop5) {
  const auto& g = x070_lm_golden();
  expect_greedy_and_top5(*g.model, g.manifest["greedy"], kTopProbTol, kt(), pool);
}

TEST_P(X070LmGoldenTest, SplitPassAndBatchGiveOnePassResults) {
  const auto& g = x070_lm_golden();
  const LanguageModel& lm = *g.model;
  const auto& items = g.manifest["prompts"]["items"];
  const std::size_t V = static_cast<std::size_t>(lm.vocab_size());
  std::vector<std::vector<TokenId>> prompts;
  std::vector<std::vector<float>> single;
  for (const auto& it : items) {
    prompts.push_back(ids_of(it["ids"]));
    auto st = lm.zero_state();
    single.emplace_back(V);
    lm.forward(prompts.back(), *st, single.back().data(), kt(), pool);
  }
  const std::size_t split = g.manifest["split_pass"]["split_at"].get<std::size_t>();
  const auto& chat = prompts[1];
  auto st = lm.zero_state();
  std::vector<float> logits(V);
  lm.forward(std::span<const TokenId>(chat).first(split), *st, nullptr, kt(), pool);
  lm.forward(std::span<const TokenId>(chat).subspan(split), *st, logits.data(), kt(), pool);
  EXPECT_EQ(logits, single[1]);
  // All prompts in one batch, in reverse order.
  std::vector<std::unique_ptr<LmState>> states;
  std::vector<std::vector<float>> out(prompts.size(), std::vector<float>(V));
  std::vector<LmRequest> batch;
  for (std::size_t i = prompts.size(); i-- > 0;) {
    states.push_back(lm.zero_state());
    batch.push_back({prompts[i], states.back().get(), out[i].data()});
  }
  lm.forward_batch(batch, kt(), pool);
  for (std::size_t i = 0; i < prompts.size(); ++i) EXPECT_EQ(out[i], single[i]) << "prompt " << i;
}

INSTANTIATE_TEST_SUITE_P(AllIsas, X070LmGoldenTest, ::testing::ValuesIn(supported_isas()), IsaParamName);

}  // namespace
}  // namespace rwkv::test

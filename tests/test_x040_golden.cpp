// RWKV-4 (x040) golden tests against shared/golden/rwkv4 (float64 reference): final logits, states and
// state embeddings of every prompt, token-wise logits, the residual-stream trace and greedy continuations,
// on every ISA this CPU supports. Tolerances are those of shared/golden/rwkv4/README.md.
#include "residual_recorder.h"
#include "test_x040_lm_support.h"

namespace rwkv::test {
namespace {

constexpr double kLogitsTol = 2e-4;
constexpr double kShiftTol = 1e-4;  // att_xx, ffn_xx
constexpr double kSumTol = 1e-3;    // aa, bb
constexpr double kPpTol = 2e-4;
constexpr double kEmbeddingTol = 5e-5;
constexpr double kTraceTol = 1e-4;
constexpr double kTopProbTol = 1e-5;

class X040GoldenTest : public ::testing::TestWithParam<Isa> {
 protected:
  const KernelTable& kt() { return kernels_for(GetParam()); }
  ThreadPool pool{2};
};

// Slot j of layer l of prompt p from prompts/state.npy [P, L, 5, C].
std::vector<float> golden_slot(const NpyArray& a, std::size_t p, std::size_t l, std::size_t j) {
  const std::size_t L = a.shape[1], C = a.shape[3];
  const std::size_t off = ((p * L + l) * 5 + j) * C;
  return std::vector<float>(a.data.begin() + static_cast<long>(off),
                            a.data.begin() + static_cast<long>(off + C));
}

TEST_P(X040GoldenTest, PromptLogitsStatesAndStateEmbeddings) {
  const auto& g = x040_golden();
  const X040Model& m = *g.model;
  const NpyArray logits = load_npy(golden("rwkv4/prompts/logits.npy"));
  const NpyArray states = load_npy(golden("rwkv4/prompts/state.npy"));
  const NpyArray embeddings = load_npy(golden("rwkv4/prompts/state_embedding.npy"));
  const int L = m.dims().n_layer, C = m.dims().n_embd;
  ASSERT_EQ(m.dims().n_att, C);
  const char* slot_names[5] = {"att_xx", "aa", "bb", "pp", "ffn_xx"};
  const double slot_tol[5] = {kShiftTol, kSumTol, kSumTol, kPpTol, kShiftTol};
  for (const auto& it : g.manifest["prompts"]["items"]) {
    const std::size_t p = it["row"].get<std::size_t>();
    SCOPED_TRACE(it["name"].get<std::string>());
    const auto ids = ids_of(it["ids"]);
    X040State st = m.zero_x040_state();
    std::vector<float> out(static_cast<std::size_t>(m.vocab_size()));
    m.forward(ids, st, out.data(), kt(), pool);
    EXPECT_TRUE(AllClose(out, row_of(logits, p), kLogitsTol));
    EXPECT_EQ(argmax(out), it["argmax"].get<int>());
    for (int l = 0; l < L; ++l)
      for (int j = 0; j < 5; ++j) {
        const float* got = st.layer(l) + static_cast<std::size_t>(j) * C;
        EXPECT_TRUE(AllClose(std::vector<float>(got, got + C), golden_slot(states, p, l, j), slot_tol[j]))
            << "layer " << l << " slot " << slot_names[j];
      }
    EXPECT_TRUE(AllClose(st.state_embedding(), row_of(embeddings, p), kEmbeddingTol));
    if (ids.size() == 1) {  // after one token the largest WKV term is the only one: bb == 1 exactly
      for (int l = 0; l < L; ++l)
        for (int c = 0; c < C; ++c) ASSERT_EQ(st.bb(l)[c], 1.0f) << "layer " << l << " channel " << c;
    }
  }
}

TEST_P(X040GoldenTest, TokenwiseLogitsAndTokenModeEqualsSequenceMode) {
  const auto& g = x040_golden();
  const X040Model& m = *g.model;
  const auto ids = ids_of(g.manifest["tokenwise"]["ids"]);
  const NpyArray want = load_npy(golden("rwkv4/tokenwise/logits.npy"));
  const std::size_t V = static_cast<std::size_t>(m.vocab_size()), T = ids.size();
  // Token mode: one call per token.
  X040State token_state = m.zero_x040_state();
  std::vector<float> token_logits(T * V);
  for (std::size_t t = 0; t < T; ++t) {
    m.forward({&ids[t], 1}, token_state, token_logits.data() + t * V, kt(), pool);
    EXPECT_TRUE(AllClose(token_logits.data() + t * V, want.data.data() + t * V, V, kLogitsTol))
        << "token " << t;
  }
  // Sequence mode with full output: the same numbers, bit for bit.
  X040State seq_state = m.zero_x040_state();
  const std::vector<int> all = positions(T);
  std::vector<float> seq_logits(T * V);
  X040Request req{ids, &seq_state, all, seq_logits.data(), nullptr};
  m.forward_sequences({&req, 1}, kt(), pool, 256);
  EXPECT_EQ(seq_logits, token_logits);
  EXPECT_EQ(seq_state.values(), token_state.values());
}

TEST_P(X040GoldenTest, ResidualTrace) {
  const auto& g = x040_golden();
  const X040Model& m = *g.model;
  const auto ids = ids_of(g.manifest["trace"]["ids"]);
  const int C = m.dims().n_embd, T = static_cast<int>(ids.size());
  ResidualRecorder recorder(m.dims().n_layer, T, C);
  const ResidualTrace trace = recorder.hook();
  std::vector<float> ln_out(static_cast<std::size_t>(T) * C);
  X040State st = m.zero_x040_state();
  const std::vector<int> pos = positions(ids.size());
  X040Request req{ids, &st, pos, nullptr, ln_out.data()};
  m.forward_sequences({&req, 1}, kt(), pool, 256, &trace);
  recorder.expect_matches(golden("rwkv4/trace"), ln_out, kTraceTol);
}

TEST_P(X040GoldenTest, GreedyContinuationsAndTop5) {
  const auto& g = x040_golden();
  expect_greedy_and_top5(*g.model, g.manifest["greedy"], kTopProbTol, kt(), pool);
}

INSTANTIATE_TEST_SUITE_P(AllIsas, X040GoldenTest, ::testing::ValuesIn(supported_isas()), IsaParamName);

}  // namespace
}  // namespace rwkv::test

// EmbeddingRWKV golden tests: embeddings for all heads, features, multi-EOS, split pass, padded batch,
// final states and the per-layer trace, on every ISA this CPU supports, for the bf16 and fp32 copies.
// Tolerances are those of shared/golden/README.md §5.
#include <cmath>

#include "golden_fixture.h"
#include "residual_recorder.h"
#include "rwkv/error.h"

namespace rwkv::test {
namespace {

constexpr double kTol = 1e-4;       // embeddings, features, hidden, trace, state0
constexpr double kStateTol = 5e-4;  // WKV state1
constexpr double kMinCosine = 0.999999;

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    ab += double(a[i]) * b[i], aa += double(a[i]) * a[i], bb += double(b[i]) * b[i];
  return ab / std::sqrt(aa * bb);
}

class EmbedGolden : public ::testing::TestWithParam<Isa> {
 protected:
  const KernelTable& kt() { return kernels_for(GetParam()); }
  ThreadPool pool{2};
};

TEST_P(EmbedGolden, TwelveTextsAllHeadsBothDtypes) {
  const auto& g = golden_models();
  const auto& items = g.manifest["embeddings"]["items"];
  const NpyArray feats = load_npy(golden("embeddings/features.npy"));
  const NpyArray heads[3] = {load_npy(golden("embeddings/emb_retr.npy")),
                             load_npy(golden("embeddings/emb_sts.npy")),
                             load_npy(golden("embeddings/emb_cls.npy"))};
  std::vector<std::vector<TokenId>> ids;
  for (const auto& it : items) ids.push_back(ids_of(it["ids"]));
  std::vector<EmbedInput> in;
  for (const auto& v : ids) in.push_back({v});
  auto f16 = g.bf16->features(in, kt(), pool);
  auto f32 = g.fp32->features(in, kt(), pool);
  ASSERT_EQ(f16.size(), items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    SCOPED_TRACE("item " + items[i]["name"].get<std::string>());
    EXPECT_TRUE(AllClose(f16[i], row_of(feats, i), kTol));
    EXPECT_EQ(f16[i], f32[i]) << "bf16 and fp32 checkpoints must give bit-identical features";
    for (Task t : {Task::Retr, Task::Sts, Task::Cls}) {
      std::vector<std::vector<float>> e = {f16[i]};
      g.bf16->apply_head(t, e, kt(), pool);
      const auto want = row_of(heads[static_cast<int>(t)], i);
      EXPECT_TRUE(AllClose(e[0], want, kTol)) << task_name(t);
      EXPECT_GE(cosine(e[0], want), kMinCosine) << task_name(t);
    }
  }
  // The head over the whole batch gives each vector what it gets alone (bit for bit); a vector of the
  // wrong width is refused.
  std::vector<std::vector<float>> all = f16;
  g.bf16->apply_head(Task::Sts, all, kt(), pool);
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::vector<std::vector<float>> one = {f16[i]};
    g.bf16->apply_head(Task::Sts, one, kt(), pool);
    EXPECT_EQ(all[i], one[0]) << "item " << i;
  }
  std::vector<std::vector<float>> bad = {f16[0], std::vector<float>(3, 0.0f)};
  EXPECT_THROW(g.bf16->apply_head(Task::Retr, bad, kt(), pool), Error);
  // The default task is [RETR], and embed() applies it; normalisation gives unit vectors.
  auto e = g.bf16->embed(in, Task::Retr, false, kt(), pool);
  for (std::size_t i = 0; i < items.size(); ++i) EXPECT_TRUE(AllClose(e[i], row_of(heads[0], i), kTol));
  auto n = g.bf16->embed(in, Task::Retr, true, kt(), pool);
  double norm = 0;
  for (float x : n[3]) norm += double(x) * x;
  EXPECT_NEAR(norm, 1.0, 1e-6);
}

TEST_P(EmbedGolden, MultiEosMeanOverAllEos) {
  const auto& g = golden_models();
  const auto ids = ids_of(g.manifest["multi_eos"]["ids"]);
  std::vector<std::vector<float>> hidden;
  EmbedInput in{ids};
  auto f = g.bf16->features({&in, 1}, kt(), pool, &hidden);
  EXPECT_TRUE(AllClose(f[0], load_npy(golden("multi_eos/feature.npy")).data, kTol));
  EXPECT_TRUE(AllClose(hidden[0], load_npy(golden("multi_eos/per_eos_hidden.npy")).data, kTol));
  const char* files[3] = {"multi_eos/emb_retr.npy", "multi_eos/emb_sts.npy", "multi_eos/emb_cls.npy"};
  for (Task t : {Task::Retr, Task::Sts, Task::Cls}) {
    std::vector<std::vector<float>> e = {f[0]};
    g.bf16->apply_head(t, e, kt(), pool);
    EXPECT_TRUE(AllClose(e[0], load_npy(golden(files[static_cast<int>(t)])).data, kTol)) << task_name(t);
  }
  std::vector<std::vector<float>> e = {f[0]};
  g.bf16->apply_head(Task::Retr, e, kt(), pool);
  EXPECT_FALSE(AllClose(e[0], load_npy(golden("multi_eos/emb_retr_if_last_eos_only_WRONG.npy")).data, kTol))
      << "pooling must average all EOS positions, not read the last one";
}

TEST_P(EmbedGolden, SplitPassCarriesState) {
  const auto& g = golden_models();
  const auto& sp = g.manifest["split_pass"];
  const auto a = ids_of(sp["part_a"]), b = ids_of(sp["part_b"]);
  X070State st = g.bf16->model().zero_state();
  SequenceRequest req{a, &st, {}, nullptr};
  g.bf16->model().forward({&req, 1}, kt(), pool);
  EXPECT_TRUE(AllClose(st.shift, load_npy(golden("split/state0_after_part_a.npy")).data, kTol));
  EXPECT_TRUE(AllClose(st.wkv, load_npy(golden("split/state1_after_part_a.npy")).data, kStateTol));
  EmbedInput in{b, &st};
  auto e = g.bf16->embed({&in, 1}, Task::Retr, false, kt(), pool);
  EXPECT_TRUE(AllClose(e[0], row_of(load_npy(golden("embeddings/emb_retr.npy")), 1), kTol));
}

TEST_P(EmbedGolden, PaddedBatchAsTokens) {
  const auto& g = golden_models();
  const auto& pb = g.manifest["padded_batch"];
  const NpyArray state1 = load_npy(golden("padded_batch/state1_padded.npy"));
  const int L = g.bf16->model().dims().n_layer;
  std::vector<std::vector<TokenId>> padded, unpadded;
  for (const auto& r : pb["ids_padded"]) padded.push_back(ids_of(r));
  for (const auto& r : pb["ids_unpadded"]) unpadded.push_back(ids_of(r));
  std::vector<X070State> states(padded.size(), g.bf16->model().zero_state());
  std::vector<EmbedInput> in_p, in_u;
  for (std::size_t i = 0; i < padded.size(); ++i)
    in_p.push_back({padded[i], &states[i]}), in_u.push_back({unpadded[i]});
  auto fp = g.bf16->features(in_p, kt(), pool);
  auto fu = g.bf16->features(in_u, kt(), pool);
  const char* names[3] = {"retr", "sts", "cls"};
  for (Task t : {Task::Retr, Task::Sts, Task::Cls}) {
    const std::string n = names[static_cast<int>(t)];
    const NpyArray want_p = load_npy(golden("padded_batch/emb_" + n + "_padded.npy"));
    const NpyArray want_u = load_npy(golden("padded_batch/emb_" + n + "_unpadded.npy"));
    std::vector<std::vector<float>> ep = fp, eu = fu;
    g.bf16->apply_head(t, ep, kt(), pool);
    g.bf16->apply_head(t, eu, kt(), pool);
    for (std::size_t i = 0; i < padded.size(); ++i) {
      EXPECT_TRUE(AllClose(ep[i], row_of(want_p, i), kTol)) << n << " padded row " << i;
      EXPECT_TRUE(AllClose(eu[i], row_of(want_u, i), kTol)) << n << " unpadded row " << i;
    }
  }
  for (std::size_t i = 0; i < padded.size(); ++i)
    for (int l = 0; l < L; ++l)
      EXPECT_TRUE(AllClose(
          std::vector<float>(states[i].wkv_layer(l), states[i].wkv_layer(l) + slice_lb(state1, l, i).size()),
          slice_lb(state1, l, i), kStateTol))
          << "row " << i << " layer " << l;
}

TEST_P(EmbedGolden, FinalStates) {
  const auto& g = golden_models();
  for (const auto& it : g.manifest["states"]["items"]) {
    const auto ids = ids_of(it["ids"]);
    X070State st = g.bf16->model().zero_state();
    SequenceRequest req{ids, &st, {}, nullptr};
    g.bf16->model().forward({&req, 1}, kt(), pool);
    SCOPED_TRACE(it["name"].get<std::string>());
    EXPECT_TRUE(AllClose(st.shift, load_npy(golden(it["state0"].get<std::string>())).data, kTol));
    EXPECT_TRUE(AllClose(st.wkv, load_npy(golden(it["state1"].get<std::string>())).data, kStateTol));
  }
}

TEST_P(EmbedGolden, PerLayerTraceAndLnOut) {
  const auto& g = golden_models();
  const auto ids = ids_of(g.manifest["trace"]["ids"]);
  const int C = g.bf16->dim(), T = static_cast<int>(ids.size());
  ResidualRecorder recorder(g.bf16->model().dims().n_layer, T, C);
  const ResidualTrace trace = recorder.hook();
  X070State st = g.bf16->model().zero_state();
  std::vector<float> out(ids.size() * C);
  const std::vector<int> pos = positions(ids.size());
  SequenceRequest req{ids, &st, pos, out.data()};
  g.bf16->model().forward({&req, 1}, kt(), pool, 256, &trace);
  recorder.expect_matches(golden("trace"), out, kTol);
}

INSTANTIATE_TEST_SUITE_P(AllIsas, EmbedGolden, ::testing::ValuesIn(supported_isas()), IsaParamName);

}  // namespace
}  // namespace rwkv::test

// State reranker golden tests: rerankers A (no layer index) and B (reranker_layer_idx [1, 0],
// OrderedDict) from .pth bf16/fp32 and .safetensors, online (unpadded and padded) and offline, on every
// ISA. Tolerances: logits 1e-4, sigmoid scores 5e-5, hidden 1e-4, states as in README §5.
#include "golden_fixture.h"

namespace rwkv::test {
namespace {

class RerankGolden : public ::testing::TestWithParam<Isa> {
 protected:
  const KernelTable& kt() { return kernels_for(GetParam()); }
  ThreadPool pool{2};

  // Final states after running each id list from zero (or from `start` states when given).
  std::vector<X070State> run(const std::vector<std::vector<TokenId>>& ids,
                             const std::vector<X070State>* start = nullptr) {
    const auto& m = golden_models().bf16->model();
    std::vector<X070State> st = start ? *start : std::vector<X070State>(ids.size(), m.zero_state());
    std::vector<SequenceRequest> reqs;
    for (std::size_t i = 0; i < ids.size(); ++i) reqs.push_back({ids[i], &st[i], {}, nullptr});
    m.forward(reqs, kt(), pool);
    return st;
  }
  void check(const StateReranker& rr, const std::vector<X070State>& states, const std::string& name,
             const std::string& mode) {
    std::vector<const X070State*> ptrs;
    for (const auto& s : states) ptrs.push_back(&s);
    std::vector<float> hidden;
    const auto logits = rr.logits(ptrs, kt(), pool, &hidden);
    std::vector<float> scores;
    for (float l : logits) scores.push_back(sigmoid_score(l));
    const std::string base = "rerank/" + name + "_" + mode + "_";
    EXPECT_TRUE(AllClose(logits, load_npy(golden(base + "logits.npy")).data, 1e-4)) << name << " " << mode;
    EXPECT_TRUE(AllClose(scores, load_npy(golden(base + "scores.npy")).data, 5e-5)) << name << " " << mode;
    EXPECT_TRUE(AllClose(hidden, load_npy(golden(base + "hidden.npy")).data, 1e-4)) << name << " " << mode;
  }
};

TEST_P(RerankGolden, OnlineAndOfflineAllFormats) {
  const auto& g = golden_models();
  const auto& r = g.manifest["rerank"];
  std::vector<std::vector<TokenId>> online, padded, docs, queries;
  for (const auto& v : r["online_ids"]) online.push_back(ids_of(v));
  for (const auto& v : r["online_ids_padded"]) padded.push_back(ids_of(v));
  for (const auto& v : r["doc_ids"]) docs.push_back(ids_of(v));
  const auto query = ids_of(r["query_ids"]);
  const auto st_online = run(online), st_padded = run(padded), st_docs = run(docs);
  // Offline: continue each cached doc state (both parts) with the query + EOS.
  const auto st_offline = run(std::vector<std::vector<TokenId>>(docs.size(), query), &st_docs);

  const int L = g.bf16->model().dims().n_layer;
  const NpyArray on1 = load_npy(golden("rerank/online_state1_unpadded.npy"));
  const NpyArray off1 = load_npy(golden("rerank/offline_state1.npy"));
  for (std::size_t i = 0; i < docs.size(); ++i)
    for (int l = 0; l < L; ++l) {
      const auto want_on = slice_lb(on1, l, i), want_off = slice_lb(off1, l, i);
      const std::vector<float> got_on(st_online[i].wkv_layer(l), st_online[i].wkv_layer(l) + want_on.size());
      const std::vector<float> got_off(st_offline[i].wkv_layer(l),
                                       st_offline[i].wkv_layer(l) + want_off.size());
      EXPECT_TRUE(AllClose(got_on, want_on, 5e-4)) << "online state doc " << i << " layer " << l;
      EXPECT_TRUE(AllClose(got_off, want_off, 5e-4)) << "offline state doc " << i << " layer " << l;
    }
  EXPECT_TRUE(AllClose(st_docs[0].shift, load_npy(golden("rerank/doc0_cached_state0.npy")).data, 1e-4));
  EXPECT_TRUE(AllClose(st_docs[0].wkv, load_npy(golden("rerank/doc0_cached_state1.npy")).data, 5e-4));

  for (const std::string name : {"reranker-a", "reranker-b"}) {
    std::vector<float> first_logits;
    for (const std::string& file : {name + ".bf16.pth", name + ".fp32.pth", name + ".bf16.safetensors"}) {
      SCOPED_TRACE(file);
      auto ck = std::make_shared<const Checkpoint>(Checkpoint::open(golden(file)));
      StateReranker rr(ck, g.bf16->model().dims());
      EXPECT_EQ(rr.n_blocks(), 2);
      EXPECT_EQ(rr.layer_index(), (name == "reranker-b" ? std::vector<int>{1, 0} : std::vector<int>{0, 1}));
      check(rr, st_online, name, "online_unpadded");
      check(rr, st_padded, name, "online_padded");
      check(rr, st_offline, name, "offline");
      std::vector<const X070State*> ptrs;
      for (const auto& s : st_online) ptrs.push_back(&s);
      const auto logits = rr.logits(ptrs, kt(), pool);
      if (first_logits.empty()) first_logits = logits;
      EXPECT_EQ(logits, first_logits) << "every copy of a reranker must give bit-identical logits";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, RerankGolden, ::testing::ValuesIn(supported_isas()), IsaParamName);

}  // namespace
}  // namespace rwkv::test

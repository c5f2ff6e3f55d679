// Reduced-precision modes (bf16, int8 weights, w8a8) on the golden models: accuracy against the float64
// reference within the bounds measured for each mode (docs/performance.md), and batch invariance /
// chunking equality, which hold in every mode.
#include <cmath>
#include <map>
#include <tuple>

#include "golden_fixture.h"

namespace rwkv::test {
namespace {

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    ab += double(a[i]) * b[i], aa += double(a[i]) * a[i], bb += double(b[i]) * b[i];
  return ab / std::sqrt(aa * bb);
}

struct ModeModels {
  std::unique_ptr<Embedder> emb;
  std::unique_ptr<StateReranker> rr_a, rr_b;
};
const ModeModels& mode_models(WeightPrecision p) {
  static std::map<WeightPrecision, std::unique_ptr<ModeModels>> cache;
  auto& m = cache[p];
  if (!m) {
    m = std::make_unique<ModeModels>();
    m->emb = std::make_unique<Embedder>(golden_models().ckpt_bf16, p);
    auto a = std::make_shared<const Checkpoint>(Checkpoint::open(golden("reranker-a.bf16.pth")));
    auto b = std::make_shared<const Checkpoint>(Checkpoint::open(golden("reranker-b.bf16.pth")));
    m->rr_a = std::make_unique<StateReranker>(a, m->emb->model().dims(), p);
    m->rr_b = std::make_unique<StateReranker>(b, m->emb->model().dims(), p);
  }
  return *m;
}

// Bounds per mode, with a margin over what was measured (docs/performance.md).
struct ModeBounds {
  double min_cosine;     // embedding cosine to the reference
  double max_logit_err;  // rerank logit absolute error
  const char* measured;
};
ModeBounds bounds_of(WeightPrecision p) {
  if (p == WeightPrecision::BF16) return {0.9999, 0.01, "cosine 0.999995, logit error <= 0.0026"};
  if (p == WeightPrecision::W8A8) return {0.998, 0.05, "cosine 0.99980, logit error <= 0.0122"};
  return {0.999, 0.02, "cosine 0.99993, logit error <= 0.0049"};
}

using ModeParam = std::tuple<Isa, WeightPrecision>;
class ReducedPrecision : public ::testing::TestWithParam<ModeParam> {
 protected:
  const KernelTable& kt() { return kernels_for(std::get<0>(GetParam())); }
  WeightPrecision precision() const { return std::get<1>(GetParam()); }
  const ModeModels& models() const { return mode_models(precision()); }
  ThreadPool pool{2};
};

TEST_P(ReducedPrecision, EmbeddingsCloseToReference) {
  const auto& items = golden_models().manifest["embeddings"]["items"];
  const NpyArray want = load_npy(golden("embeddings/emb_retr.npy"));
  std::vector<std::vector<TokenId>> ids;
  for (const auto& it : items) ids.push_back(ids_of(it["ids"]));
  std::vector<EmbedInput> in;
  for (const auto& v : ids) in.push_back({v});
  const auto got = models().emb->embed(in, Task::Retr, false, kt(), pool);
  double worst = 1;
  for (std::size_t i = 0; i < ids.size(); ++i) worst = std::min(worst, cosine(got[i], row_of(want, i)));
  RecordProperty("min_cosine", std::to_string(worst));
  EXPECT_GE(worst, bounds_of(precision()).min_cosine)
      << precision_name(precision()) << " mode, measured " << bounds_of(precision()).measured;
}

TEST_P(ReducedPrecision, RerankLogitsCloseToReference) {
  const auto& g = golden_models();
  const auto& r = g.manifest["rerank"];
  std::vector<std::vector<TokenId>> online;
  for (const auto& v : r["online_ids"]) online.push_back(ids_of(v));
  const X070Model& m = models().emb->model();
  std::vector<X070State> st(online.size(), m.zero_state());
  std::vector<SequenceRequest> reqs;
  for (std::size_t i = 0; i < online.size(); ++i) reqs.push_back({online[i], &st[i], {}, nullptr});
  m.forward(reqs, kt(), pool);
  std::vector<const X070State*> ptrs;
  for (const auto& s : st) ptrs.push_back(&s);
  for (const auto& [rr, name] :
       {std::pair{models().rr_a.get(), "reranker-a"}, {models().rr_b.get(), "reranker-b"}}) {
    const auto logits = rr->logits(ptrs, kt(), pool);
    const auto want = load_npy(golden(std::string("rerank/") + name + "_online_unpadded_logits.npy")).data;
    double worst = 0;
    for (std::size_t i = 0; i < want.size(); ++i)
      worst = std::max(worst, std::fabs(double(logits[i]) - want[i]));
    RecordProperty(std::string(name) + "_max_logit_error", std::to_string(worst));
    EXPECT_TRUE(AllClose(logits, want, bounds_of(precision()).max_logit_err))
        << name << ": " << precision_name(precision()) << " mode, measured "
        << bounds_of(precision()).measured;
  }
}

TEST_P(ReducedPrecision, BatchInvariantAndChunkingExact) {
  const auto& items = golden_models().manifest["embeddings"]["items"];
  std::vector<std::vector<TokenId>> ids;
  for (const auto& it : items) ids.push_back(ids_of(it["ids"]));
  const Embedder& e = *models().emb;
  std::vector<EmbedInput> all;
  for (const auto& v : ids) all.push_back({v});
  const auto batch = e.embed(all, Task::Retr, false, kt(), pool, 7);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    EmbedInput one{ids[i]};
    ThreadPool single(1);
    EXPECT_EQ(e.embed({&one, 1}, Task::Retr, false, kt(), single, 256)[0], batch[i]) << "input " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, ReducedPrecision,
                         ::testing::Combine(::testing::ValuesIn(supported_isas()),
                                            ::testing::Values(WeightPrecision::BF16, WeightPrecision::Int8,
                                                              WeightPrecision::W8A8)),
                         [](const ::testing::TestParamInfo<ModeParam>& p) {
                           return std::string(isa_name(std::get<0>(p.param))) + "_" +
                                  precision_name(std::get<1>(p.param));
                         });

}  // namespace
}  // namespace rwkv::test

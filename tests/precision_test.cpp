// Reduced-precision (bf16) mode on the golden models: accuracy against the float64 reference within
// the bounds measured for this mode (docs/performance.md), and batch invariance / chunking equality,
// which hold in every mode.
#include <cmath>

#include "golden_fixture.h"

namespace rwkv::test {
namespace {

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    ab += double(a[i]) * b[i], aa += double(a[i]) * a[i], bb += double(b[i]) * b[i];
  return ab / std::sqrt(aa * bb);
}

struct Bf16Models {
  std::unique_ptr<Embedder> emb;
  std::unique_ptr<StateReranker> rr_a, rr_b;
};
const Bf16Models& bf16_models() {
  static std::unique_ptr<Bf16Models> m;
  if (!m) {
    m = std::make_unique<Bf16Models>();
    m->emb = std::make_unique<Embedder>(golden_models().ckpt_bf16, WeightPrecision::BF16);
    auto a = std::make_shared<const Checkpoint>(Checkpoint::open(golden("reranker-a.bf16.pth")));
    auto b = std::make_shared<const Checkpoint>(Checkpoint::open(golden("reranker-b.bf16.pth")));
    m->rr_a = std::make_unique<StateReranker>(a, m->emb->model().dims(), WeightPrecision::BF16);
    m->rr_b = std::make_unique<StateReranker>(b, m->emb->model().dims(), WeightPrecision::BF16);
  }
  return *m;
}

class Bf16Mode : public ::testing::TestWithParam<Isa> {
 protected:
  const KernelTable& kt() { return kernels_for(GetParam()); }
  ThreadPool pool{2};
};

TEST_P(Bf16Mode, EmbeddingsCloseToReference) {
  const auto& items = golden_models().manifest["embeddings"]["items"];
  const NpyArray want = load_npy(golden("embeddings/emb_retr.npy"));
  std::vector<std::vector<TokenId>> ids;
  for (const auto& it : items) ids.push_back(ids_of(it["ids"]));
  std::vector<EmbedInput> in;
  for (const auto& v : ids) in.push_back({v});
  const auto got = bf16_models().emb->embed(in, Task::Retr, false, kt(), pool);
  double worst = 1;
  for (std::size_t i = 0; i < ids.size(); ++i) worst = std::min(worst, cosine(got[i], row_of(want, i)));
  RecordProperty("min_cosine", std::to_string(worst));
  EXPECT_GE(worst, 0.9999) << "bf16 mode: embedding cosine to the reference (measured 0.999995)";
}

TEST_P(Bf16Mode, RerankLogitsCloseToReference) {
  const auto& g = golden_models();
  const auto& r = g.manifest["rerank"];
  std::vector<std::vector<TokenId>> online;
  for (const auto& v : r["online_ids"]) online.push_back(ids_of(v));
  const X070Model& m = bf16_models().emb->model();
  std::vector<X070State> st(online.size(), m.zero_state());
  std::vector<SequenceRequest> reqs;
  for (std::size_t i = 0; i < online.size(); ++i) reqs.push_back({online[i], &st[i], {}, nullptr});
  m.forward(reqs, kt(), pool);
  std::vector<const X070State*> ptrs;
  for (const auto& s : st) ptrs.push_back(&s);
  for (const auto& [rr, name] :
       {std::pair{bf16_models().rr_a.get(), "reranker-a"}, {bf16_models().rr_b.get(), "reranker-b"}}) {
    const auto logits = rr->logits(ptrs, kt(), pool);
    const auto want = load_npy(golden(std::string("rerank/") + name + "_online_unpadded_logits.npy")).data;
    double worst = 0;
    for (std::size_t i = 0; i < want.size(); ++i)
      worst = std::max(worst, std::fabs(double(logits[i]) - want[i]));
    RecordProperty(std::string(name) + "_max_logit_error", std::to_string(worst));
    EXPECT_TRUE(AllClose(logits, want, 0.01)) << name << ": bf16 mode logits (measured error <= 0.0026)";
  }
}

TEST_P(Bf16Mode, BatchInvariantAndChunkingExact) {
  const auto& items = golden_models().manifest["embeddings"]["items"];
  std::vector<std::vector<TokenId>> ids;
  for (const auto& it : items) ids.push_back(ids_of(it["ids"]));
  const Embedder& e = *bf16_models().emb;
  std::vector<EmbedInput> all;
  for (const auto& v : ids) all.push_back({v});
  const auto batch = e.embed(all, Task::Retr, false, kt(), pool, 7);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    EmbedInput one{ids[i]};
    ThreadPool single(1);
    EXPECT_EQ(e.embed({&one, 1}, Task::Retr, false, kt(), single, 256)[0], batch[i]) << "input " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, Bf16Mode, ::testing::ValuesIn(supported_isas()), IsaParamName);

}  // namespace
}  // namespace rwkv::test

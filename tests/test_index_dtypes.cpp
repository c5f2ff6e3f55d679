// Rerank score drift of reduced-precision stored states (bf16, fp16, int8) against fp32 states, through
// the store, on the golden model and on a synthetic model with random weights of a wider shape. fp32 must
// equal online reranking within the golden tolerance (1e-4); the others must stay within the stated limits
// (docs/index-format.md, "State dtypes"), which are about 3x the drift measured when they were set.
#include <cmath>
#include <iostream>

#include "model/synth.h"
#include "test_index_support.h"

namespace rwkv::test {
namespace {

using index::DocumentIndex;
using index::StateCodec;

struct Drift {
  double max_abs = 0, mean_abs = 0;
};

// Max and mean |logit(codec) - logit(reference)| over every (query, document) pair.
std::vector<float> logits_through_store(const index::IndexModels& m, StateCodec c,
                                        const std::vector<index::IndexDocument>& docs,
                                        const std::vector<std::string>& queries) {
  ThreadPool pool(2);
  const KernelTable& kt = kernels_for(select_isa());
  TempDir tmp;
  DocumentIndex idx(tmp.path(), DocumentIndex::Mode::Write);
  idx.init(m.header({}, c));
  idx.add(docs, m, false, kt, pool, 256);
  std::vector<std::string> ids;
  for (const auto& d : docs) ids.push_back(d.id);
  std::vector<float> out;
  for (const auto& q : queries)
    for (const auto& h : idx.rerank_ids(q, ids, {}, m, kt, pool)) out.push_back(*h.logit);
  return out;
}

std::vector<float> online_logits(const index::IndexModels& m, const std::vector<index::IndexDocument>& docs,
                                 const std::vector<std::string>& queries) {
  ThreadPool pool(2);
  RerankPipeline pipe(m.embedder->model(), *m.reranker, m.encode);
  std::vector<std::string> texts;
  for (const auto& d : docs) texts.push_back(d.body());
  std::vector<float> out;
  for (const auto& q : queries)
    for (const auto& r : pipe.score(q, texts, RerankOptions{}, kernels_for(select_isa()), pool))
      out.push_back(r.logit);
  return out;
}

Drift drift(const std::vector<float>& got, const std::vector<float>& ref) {
  Drift d;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double e = std::fabs(static_cast<double>(got[i]) - ref[i]);
    d.max_abs = std::max(d.max_abs, e);
    d.mean_abs += e / static_cast<double>(got.size());
  }
  return d;
}

struct Limits {
  double bf16, fp16, int8;
};

void check_drifts(const std::string& model, const index::IndexModels& m,
                  const std::vector<index::IndexDocument>& docs, const Limits& lim) {
  const std::vector<std::string> queries = {"neural network memory", "a cat in the garden",
                                            "history of light"};
  const auto online = online_logits(m, docs, queries);
  const auto fp32 = logits_through_store(m, StateCodec::F32, docs, queries);
  ASSERT_EQ(fp32.size(), online.size());
  EXPECT_LE(drift(fp32, online).max_abs, 1e-4) << model << ": fp32 states must equal online reranking";
  for (const auto& [c, limit] : {std::pair{StateCodec::BF16, lim.bf16}, std::pair{StateCodec::F16, lim.fp16},
                                 std::pair{StateCodec::Int8, lim.int8}}) {
    const Drift d = drift(logits_through_store(m, c, docs, queries), fp32);
    std::cout << "[ drift    ] " << model << " " << index::state_codec_name(c) << ": max |dlogit| "
              << d.max_abs << ", mean " << d.mean_abs << " (limit " << limit << ")\n";
    ::testing::Test::RecordProperty(
        model + "_" + std::string(index::state_codec_name(c)) + "_max_logit_drift",
        std::to_string(d.max_abs));
    EXPECT_LE(d.max_abs, limit) << model << " " << index::state_codec_name(c);
    EXPECT_GT(d.max_abs, 0.0) << "a lossy encoding that changes nothing is suspicious";
  }
}

TEST(IndexStateDrift, GoldenModel) {
  GoldenIndexModels models;
  check_drifts("golden", models.m, synthetic_documents(120, 3), {4e-3, 5e-4, 1.5e-2});
}

// A synthetic model, 4 layers x 256 (4 heads): more heads and layers than the golden model.
TEST(IndexStateDrift, SyntheticModel) {
  TempDir tmp;
  SynthSpec e;
  e.kind = "x070-embedding";
  e.layers = 4;
  e.embd = 256;
  e.seed = 5;
  write_synthetic_model(e, tmp.path() / "emb.safetensors");
  SynthSpec r;
  r.kind = "x070-reranker";
  r.layers = 2;
  r.embd = 256;
  r.seed = 6;
  r.reranker_layer_idx = "[3, 1]";
  write_synthetic_model(r, tmp.path() / "rr.safetensors");
  auto emb_ckpt = std::make_shared<const Checkpoint>(Checkpoint::open(tmp.path() / "emb.safetensors"));
  auto rr_ckpt = std::make_shared<const Checkpoint>(Checkpoint::open(tmp.path() / "rr.safetensors"));
  Embedder embedder(emb_ckpt);
  StateReranker reranker(rr_ckpt, embedder.model().dims());
  const auto tok = WorldTokenizer::load(vocab_path());
  index::IndexModels m;
  m.embedder = &embedder;
  m.reranker = &reranker;
  m.encode = [&tok](std::string_view s) { return tok.encode(s); };
  m.model_path = "synthetic";
  check_drifts("synthetic-4x256", m, synthetic_documents(48, 4), {4e-3, 5e-4, 1.5e-2});
}

}  // namespace
}  // namespace rwkv::test

// Document index search on the golden tiny model: results equal the brute-force pipeline (embed every
// document, exact cosine, online rerank of the top-k) in exact-scan and HNSW modes; offline logits from
// the store equal the golden reference; the vector index catches up with, and is rebuilt from, the store.
#include <algorithm>
#include <fstream>

#include "rwkv/error.h"
#include "test_index_support.h"

namespace rwkv::test {
namespace {

using index::DocumentIndex;
using index::SearchHit;
using index::SearchOptions;

struct BruteHit {
  std::size_t doc;
  float cosine, logit, score;
};

// Reference: embed everything, exact cosine (same summation order as the index's exact scan), online
// rerank of the top-k, ranked by logit, then cosine, then document order.
std::vector<BruteHit> brute_force(const std::vector<index::IndexDocument>& docs, const std::string& query,
                                  std::size_t top_k, const index::IndexModels& m, ThreadPool& pool) {
  const KernelTable& kt = kernels_for(select_isa());
  std::vector<std::vector<TokenId>> seqs;
  for (const auto& d : docs) seqs.push_back(policy_simple(m.encode(d.body())));
  std::vector<EmbedInput> in;
  for (const auto& s : seqs) in.push_back({s});
  const auto emb = m.embedder->embed(in, Task::Retr, true, kt, pool);
  const auto qs = policy_simple(m.encode(query));
  EmbedInput qin{qs};
  const auto q = m.embedder->embed({&qin, 1}, Task::Retr, true, kt, pool)[0];
  std::vector<BruteHit> hits;
  for (std::size_t i = 0; i < docs.size(); ++i) {
    float dot = 0.0f;
    for (std::size_t j = 0; j < q.size(); ++j) dot += q[j] * emb[i][j];
    hits.push_back({i, dot, 0, 0});
  }
  std::stable_sort(hits.begin(), hits.end(),
                   [](const auto& a, const auto& b) { return a.cosine > b.cosine; });
  hits.resize(std::min(top_k, hits.size()));
  std::vector<std::string> texts;
  for (const auto& h : hits) texts.push_back(docs[h.doc].body());
  RerankPipeline pipe(m.embedder->model(), *m.reranker, m.encode);
  const auto r = pipe.score(query, texts, RerankOptions{}, kt, pool);  // online
  for (std::size_t i = 0; i < hits.size(); ++i) hits[i].logit = r[i].logit, hits[i].score = r[i].score;
  std::stable_sort(hits.begin(), hits.end(), [](const auto& a, const auto& b) {
    if (a.logit != b.logit) return a.logit > b.logit;
    return a.cosine > b.cosine;
  });
  return hits;
}

class IndexSearch : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    models_ = new GoldenIndexModels();
    dir_ = new TempDir();
    docs_ = new std::vector<index::IndexDocument>(synthetic_documents(300));
    ThreadPool pool(2);
    DocumentIndex idx(dir_->path() / "idx", DocumentIndex::Mode::Write);
    idx.init(models_->m.header({}, index::StateCodec::F32));
    // Several batches, as rwkv index commits them.
    for (std::size_t b = 0; b < docs_->size(); b += 64) {
      std::vector<index::IndexDocument> batch(
          docs_->begin() + static_cast<long>(b),
          docs_->begin() + static_cast<long>(std::min(b + 64, docs_->size())));
      const auto r = idx.add(batch, models_->m, false, kernels_for(select_isa()), pool, 256);
      ASSERT_EQ(r.added.size(), batch.size());
    }
    idx.save_ann();
  }
  static void TearDownTestSuite() {
    delete docs_;
    delete dir_;
    delete models_;
  }
  static std::filesystem::path dir() { return dir_->path() / "idx"; }

  void expect_equal(const std::vector<SearchHit>& got, const std::vector<BruteHit>& want) {
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      SCOPED_TRACE("rank " + std::to_string(i));
      EXPECT_EQ(got[i].id, (*docs_)[want[i].doc].id);
      ASSERT_TRUE(got[i].logit && got[i].score);
      EXPECT_NEAR(*got[i].logit, want[i].logit, 1e-4);  // golden tolerance for logits
      EXPECT_NEAR(*got[i].score, want[i].score, 5e-5);  // and sigmoid scores
      EXPECT_NEAR(got[i].embedding_score, want[i].cosine, 1e-5);
    }
  }

  static GoldenIndexModels* models_;
  static TempDir* dir_;
  static std::vector<index::IndexDocument>* docs_;
  ThreadPool pool{2};
  const std::vector<std::string> queries{"neural network memory", "a cat and a dog in the house",
                                         "ocean river forest", "Title 10"};
};
GoldenIndexModels* IndexSearch::models_ = nullptr;
TempDir* IndexSearch::dir_ = nullptr;
std::vector<index::IndexDocument>* IndexSearch::docs_ = nullptr;

TEST_F(IndexSearch, ExactScanEqualsBruteForce) {
  DocumentIndex idx(dir(), DocumentIndex::Mode::Read);
  SearchOptions o;
  o.top_k = 40;
  o.top_n = 0;
  for (const auto& q : queries) {
    SCOPED_TRACE(q);
    expect_equal(idx.search(q, o, models_->m, kernels_for(select_isa()), pool),
                 brute_force(*docs_, q, o.top_k, models_->m, pool));
  }
}

TEST_F(IndexSearch, HnswEqualsBruteForce) {
  DocumentIndex idx(dir(), DocumentIndex::Mode::Read);
  SearchOptions o;
  o.top_k = 40;
  o.top_n = 0;
  o.exact_below = 0;  // always the HNSW graph
  o.ef = 300;
  o.rerank_batch = 16;  // several batched forwards
  for (const auto& q : queries) {
    SCOPED_TRACE(q);
    expect_equal(idx.search(q, o, models_->m, kernels_for(select_isa()), pool),
                 brute_force(*docs_, q, o.top_k, models_->m, pool));
  }
}

TEST_F(IndexSearch, TopNAndNoRerank) {
  DocumentIndex idx(dir(), DocumentIndex::Mode::Read);
  SearchOptions o;
  o.top_k = 25;
  o.top_n = 5;
  const auto hits = idx.search(queries[0], o, models_->m, kernels_for(select_isa()), pool);
  const auto want = brute_force(*docs_, queries[0], 25, models_->m, pool);
  ASSERT_EQ(hits.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(hits[i].id, (*docs_)[want[i].doc].id);
  o.rerank = false;
  const auto plain = idx.search(queries[0], o, models_->m, kernels_for(select_isa()), pool);
  ASSERT_EQ(plain.size(), 5u);
  for (std::size_t i = 0; i < plain.size(); ++i) {
    EXPECT_FALSE(plain[i].logit.has_value());
    if (i) {
      EXPECT_GE(plain[i - 1].embedding_score, plain[i].embedding_score);
    }
  }
  EXPECT_TRUE(plain[0].meta.contains("text"));
}

TEST_F(IndexSearch, RerankByIdsEqualsOnline) {
  DocumentIndex idx(dir(), DocumentIndex::Mode::Read);
  const std::vector<std::string> ids = {"doc3", "doc150", "doc299", "doc0"};
  const auto hits = idx.rerank_ids(queries[1], ids, {}, models_->m, kernels_for(select_isa()), pool);
  std::vector<std::string> texts;
  for (const auto& id : ids) texts.push_back((*docs_)[std::stoul(id.substr(3))].body());
  RerankPipeline pipe(models_->m.embedder->model(), *models_->m.reranker, models_->m.encode);
  const auto online = pipe.score(queries[1], texts, RerankOptions{}, kernels_for(select_isa()), pool);
  ASSERT_EQ(hits.size(), ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(hits[i].id, ids[i]);
    EXPECT_NEAR(*hits[i].logit, online[i].logit, 1e-4);
  }
  EXPECT_THROW(
      idx.rerank_ids(queries[1], {"doc1", "missing"}, {}, models_->m, kernels_for(select_isa()), pool),
      Error);
}

// The golden rerank set: offline logits from stored states equal the float64 reference.
TEST(IndexGolden, OfflineLogitsFromStoreMatchReference) {
  const auto& r = golden_models().manifest["rerank"];
  std::vector<index::IndexDocument> docs;
  for (std::size_t i = 0; i < r["documents"].size(); ++i)
    docs.push_back({"g" + std::to_string(i), "", r["documents"][i].get<std::string>(), nullptr});
  ThreadPool pool(2);
  for (const std::string name : {"reranker-a", "reranker-b"}) {
    SCOPED_TRACE(name);
    GoldenIndexModels models(name + ".bf16.pth");
    TempDir tmp;
    DocumentIndex idx(tmp.path(), DocumentIndex::Mode::Write);
    idx.init(models.m.header({}, index::StateCodec::F32));
    idx.add(docs, models.m, false, kernels_for(select_isa()), pool, 7);  // odd chunk size on purpose
    SearchOptions o;
    o.top_k = 4;
    o.top_n = 0;
    const auto hits = idx.search(r["query"].get<std::string>(), o, models.m, kernels_for(select_isa()), pool);
    ASSERT_EQ(hits.size(), 4u);
    const nlohmann::json* want = nullptr;
    for (const auto& res : r["results"])
      if (res["name"] == name) want = &res["offline"]["logits"];
    ASSERT_NE(want, nullptr);
    for (const auto& h : hits) {
      const std::size_t i = std::stoul(h.id.substr(1));
      EXPECT_NEAR(*h.logit, (*want)[i].get<double>(), 1e-4) << h.id;
    }
  }
}

// Changes made after the vector index was saved (adds, removals, a replaced document) are caught up on
// open; a damaged or missing vector index file is rebuilt from the store with a notice.
TEST(IndexConsistency, CatchUpAndRebuild) {
  GoldenIndexModels models;
  ThreadPool pool(2);
  const KernelTable& kt = kernels_for(select_isa());
  TempDir tmp;
  auto docs = synthetic_documents(60, 11);
  {
    DocumentIndex idx(tmp.path(), DocumentIndex::Mode::Write);
    idx.init(models.m.header({}, index::StateCodec::BF16));
    idx.add({docs.begin(), docs.begin() + 40}, models.m, false, kt, pool, 256);
    idx.save_ann();
    // Not saved afterwards (as if killed): 20 more, two removed, one replaced.
    idx.add({docs.begin() + 40, docs.end()}, models.m, false, kt, pool, 256);
    EXPECT_EQ(idx.remove({"doc5", "doc45", "nope"}), (std::vector<std::string>{"doc5", "doc45"}));
    auto changed = docs[7];
    changed.text = "a completely different text about the ocean";
    const auto r = idx.add({changed, docs[8]}, models.m, true, kt, pool, 256);
    EXPECT_EQ(r.updated, std::vector<std::string>{"doc7"});
    EXPECT_EQ(r.skipped, std::vector<std::string>{"doc8"});
  }
  std::vector<std::string> notices;
  auto log = [&](const std::string& s) { notices.push_back(s); };
  std::vector<SearchHit> first;
  SearchOptions o;
  o.top_k = 100;
  o.top_n = 0;
  {
    DocumentIndex idx(tmp.path(), DocumentIndex::Mode::Read, log);
    EXPECT_TRUE(notices.empty());  // caught up, not rebuilt
    EXPECT_EQ(idx.stats().documents, 58u);
    EXPECT_EQ(idx.ann().size(), 58u);
    first = idx.search("ocean", o, models.m, kt, pool);
    ASSERT_EQ(first.size(), 58u);
    for (const auto& h : first) EXPECT_NE(h.id, "doc5");
    const auto doc7 = std::find_if(first.begin(), first.end(), [](const auto& h) { return h.id == "doc7"; });
    ASSERT_NE(doc7, first.end());
    EXPECT_EQ(doc7->meta["text"], "a completely different text about the ocean");
  }
  // Damage the saved vector index: one flipped byte.
  {
    std::fstream f(tmp.path() / "ann.hnsw", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(200);
    f.put('\x5a');
  }
  DocumentIndex idx(tmp.path(), DocumentIndex::Mode::Read, log);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_NE(notices[0].find("rebuilding"), std::string::npos) << notices[0];
  const auto again = idx.search("ocean", o, models.m, kt, pool);
  ASSERT_EQ(again.size(), first.size());
  for (std::size_t i = 0; i < again.size(); ++i) {
    EXPECT_EQ(again[i].id, first[i].id);
    EXPECT_EQ(*again[i].logit, *first[i].logit);
  }
}

}  // namespace
}  // namespace rwkv::test

namespace rwkv::test {
namespace {

// import_from copies documents between indexes without recomputing them, re-encoding the states: a bf16
// copy of an fp32 index gives exactly the logits of an index built in bf16 directly.
TEST(IndexConsistency, ImportReencodesWithoutRecomputing) {
  GoldenIndexModels models;
  ThreadPool pool(2);
  const KernelTable& kt = kernels_for(select_isa());
  const auto docs = synthetic_documents(30, 13);
  TempDir a, b, c;
  {
    DocumentIndex fp32(a.path(), DocumentIndex::Mode::Write);
    fp32.init(models.m.header({}, index::StateCodec::F32));
    fp32.add(docs, models.m, false, kt, pool, 256);
    DocumentIndex direct(b.path(), DocumentIndex::Mode::Write);
    direct.init(models.m.header({}, index::StateCodec::BF16));
    direct.add(docs, models.m, false, kt, pool, 256);
  }
  DocumentIndex src(a.path(), DocumentIndex::Mode::Read), direct(b.path(), DocumentIndex::Mode::Read);
  DocumentIndex copy(c.path(), DocumentIndex::Mode::Write);
  copy.init(models.m.header({}, index::StateCodec::BF16));
  EXPECT_EQ(copy.import_from(src, 7), docs.size());
  EXPECT_EQ(copy.import_from(src, 7), 0u);  // nothing left to copy
  SearchOptions o;
  o.top_k = 30;
  o.top_n = 0;
  const auto x = copy.search("river memory", o, models.m, kt, pool);
  const auto y = direct.search("river memory", o, models.m, kt, pool);
  ASSERT_EQ(x.size(), y.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(x[i].id, y[i].id);
    EXPECT_EQ(*x[i].logit, *y[i].logit);
  }
  // Another model's index cannot be imported.
  GoldenIndexModels other("reranker-a.bf16.pth");
  TempDir d;
  DocumentIndex foreign(d.path(), DocumentIndex::Mode::Write);
  foreign.init(other.m.header({}, index::StateCodec::F32));
  EXPECT_THROW(foreign.import_from(src), Error);
}

}  // namespace
}  // namespace rwkv::test

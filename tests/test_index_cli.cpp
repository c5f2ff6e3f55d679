// Black-box tests of `rwkv index` and `rwkv search`: building, resuming, deleting, agreement with
// `rwkv rerank` (online), refusal of an index made with other models or templates, the writer lock, and
// clear errors (or a rebuild, for the derived vector index) when store files are damaged.
#include <fstream>
#include <sstream>

#include "model/synth.h"
#include "test_index_support.h"
#include "util/strcat.h"

namespace rwkv::test {
namespace {

std::string q(const std::filesystem::path& p) {
  return str("'", p.string(), "'");
}

std::vector<nlohmann::json> lines(const std::string& out) {
  std::vector<nlohmann::json> v;
  std::istringstream in(out);
  std::string l;
  while (std::getline(in, l))
    if (!l.empty()) v.push_back(nlohmann::json::parse(l));
  return v;
}

class IndexCli : public ::testing::Test {
 protected:
  void SetUp() override {
    docs = synthetic_documents(50, 5);
    std::ofstream(tmp.path() / "docs.jsonl") << documents_jsonl(docs);
    models = " --model " + q(golden("emb-model.bf16.pth")) + " --reranker " +
             q(golden("reranker-b.bf16.pth")) + " --vocab " + q(vocab_path()) + " --threads 2";
  }
  CliResult build(const std::string& extra = "") {
    return run_cli("index" + models + " --input " + q(tmp.path() / "docs.jsonl") + " --out " + q(dir()) +
                   " " + extra);
  }
  CliResult search(const std::string& query, const std::string& extra = "") {
    return run_cli("search --index " + q(dir()) + " --vocab " + q(vocab_path()) + " --threads 2 --query '" +
                   query + "' " + extra);
  }
  std::filesystem::path dir() const { return tmp.path() / "idx"; }

  TempDir tmp;
  std::vector<index::IndexDocument> docs;
  std::string models;
};

TEST_F(IndexCli, BuildResumeSearchDelete) {
  auto r = build("--state-dtype fp16");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto s = nlohmann::json::parse(r.out);
  EXPECT_EQ(s["added"], 50);
  EXPECT_EQ(s["documents"], 50);
  EXPECT_EQ(s["state_dtype"], "fp16");
  EXPECT_TRUE(r.err.empty()) << r.err;  // no progress bar when stderr is not a terminal
  r = build();                          // resume: everything is already there
  ASSERT_EQ(r.exit_code, 0) << r.err;
  s = nlohmann::json::parse(r.out);
  EXPECT_EQ(s["added"], 0);
  EXPECT_EQ(s["skipped"], 50);

  r = search("neural network memory", "--top-k 20 --top-n 3");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto hits = lines(r.out);
  ASSERT_EQ(hits.size(), 3u);
  for (const auto& h : hits)
    for (const char* k : {"id", "score", "logit", "embedding_score"}) EXPECT_TRUE(h.contains(k)) << h.dump();
  EXPECT_GE(hits[0]["logit"].get<double>(), hits[1]["logit"].get<double>());
  // The same documents reranked online by `rwkv rerank` (fp16 states: within the fp16 drift limit).
  std::string texts;
  for (const auto& h : hits) {
    const std::size_t i = std::stoul(h["id"].get<std::string>().substr(3));
    texts += " '" + docs[i].body() + "'";
  }
  r = run_cli("rerank" + models + " --query 'neural network memory'" + texts);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const auto& o : lines(r.out))
    EXPECT_NEAR(o["logit"].get<double>(), hits[o["index"].get<std::size_t>()]["logit"].get<double>(), 5e-4);

  r = search("neural network memory", "--top-k 50 --top-n 0 --no-rerank --return-text");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto plain = lines(r.out);
  ASSERT_EQ(plain.size(), 50u);
  EXPECT_FALSE(plain[0].contains("logit"));
  EXPECT_EQ(plain[0]["score"], plain[0]["embedding_score"]);
  EXPECT_TRUE(plain[0].contains("text"));

  r = run_cli("index --out " + q(dir()) + " --delete doc1 doc2 nope");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  s = nlohmann::json::parse(r.out);
  EXPECT_EQ(s["deleted"], (std::vector<std::string>{"doc1", "doc2"}));
  EXPECT_EQ(s["not_found"], std::vector<std::string>{"nope"});
  EXPECT_EQ(s["documents"], 48);
  r = search("neural network memory", "--top-k 50 --top-n 0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto after = lines(r.out);
  EXPECT_EQ(after.size(), 48u);
  for (const auto& h : after) EXPECT_TRUE(h["id"] != "doc1" && h["id"] != "doc2");
  r = run_cli("index --out " + q(dir()) + " --info");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  s = nlohmann::json::parse(r.out);
  EXPECT_EQ(s["stats"]["documents"], 48);
  EXPECT_EQ(s["stats"]["ann_live"], 48);
  EXPECT_EQ(s["header"]["state_dtype"], "fp16");
}

TEST_F(IndexCli, BadInputLinesAreNamed) {
  std::ofstream(tmp.path() / "bad.jsonl") << "{\"id\": \"a\", \"text\": \"fine\"}\n{\"text\": \"no id\"}\n";
  auto r = run_cli("index" + models + " --input " + q(tmp.path() / "bad.jsonl") + " --out " + q(dir()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("line 2"), std::string::npos) << r.err;
  r = run_cli("search --index " + q(tmp.path() / "nothing") + " --query x");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not an rwkv index"), std::string::npos) << r.err;
}

TEST_F(IndexCli, RefusesOtherModelRerankerOrTemplate) {
  ASSERT_EQ(build().exit_code, 0);
  SynthSpec e;
  e.layers = 2;
  e.embd = 128;
  e.seed = 99;
  write_synthetic_model(e, tmp.path() / "other.safetensors");
  auto r = run_cli("index --model " + q(tmp.path() / "other.safetensors") + " --reranker " +
                   q(golden("reranker-b.bf16.pth")) + " --vocab " + q(vocab_path()) + " --input " +
                   q(tmp.path() / "docs.jsonl") + " --out " + q(dir()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("embedding model"), std::string::npos) << r.err;
  r = search("x", "--model " + q(tmp.path() / "other.safetensors"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("embedding model"), std::string::npos) << r.err;
  r = search("x", "--reranker " + q(golden("reranker-a.bf16.pth")));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("reranker"), std::string::npos) << r.err;
  r = build("--doc-template 'Passage: {document}\n'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("templates"), std::string::npos) << r.err;
  r = build("--state-dtype bf16");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("stores states as fp32"), std::string::npos) << r.err;
  // The fp32 copy of the same model has the same fingerprint: accepted.
  r = search("x", "--model " + q(golden("emb-model.fp32.pth")) + " --top-n 1");
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(IndexCli, OneWriterAtATime) {
  ASSERT_EQ(build().exit_code, 0);
  index::DocumentIndex writer(dir(), index::DocumentIndex::Mode::Write);
  auto r = run_cli("index --out " + q(dir()) + " --delete doc1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("being written by another process"), std::string::npos) << r.err;
  r = search("memory", "--top-n 1");  // readers are not blocked
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

void flip_byte(const std::filesystem::path& file, std::size_t offset) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  const char c = static_cast<char>(f.get());
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x40));
}

TEST_F(IndexCli, DamagedStateIsReportedWithTheDocument) {
  ASSERT_EQ(build().exit_code, 0);
  // Find doc7's state in data.mdb by its bytes (fp32 states are stored verbatim) and damage it.
  GoldenIndexModels m;
  ThreadPool pool(2);
  RerankPipeline pipe(m.m.embedder->model(), *m.m.reranker, m.m.encode);
  const auto st = pipe.document_states({docs[7].body()}, RerankOptions{}, kernels_for(select_isa()), pool);
  const std::string needle(reinterpret_cast<const char*>(st[0].wkv.data()), 256);
  std::ifstream in(dir() / "data.mdb", std::ios::binary);
  const std::string data((std::istreambuf_iterator<char>(in)), {});
  const auto at = data.find(needle);
  ASSERT_NE(at, std::string::npos);
  flip_byte(dir() / "data.mdb", at + 100);
  const auto r = search("anything", "--top-k 50 --top-n 0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("document 'doc7'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("checksum mismatch"), std::string::npos) << r.err;
}

TEST_F(IndexCli, DamagedStoreFilesGiveClearErrors) {
  ASSERT_EQ(build().exit_code, 0);
  const auto data = dir() / "data.mdb";
  const auto size = std::filesystem::file_size(data);
  {  // garbage over the whole file
    std::string junk(size, '\0');
    for (std::size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>(i * 2654435761u >> 13);
    std::ofstream(data, std::ios::binary | std::ios::trunc) << junk;
  }
  auto r = search("memory");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(dir().string()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("LMDB"), std::string::npos) << r.err;
  std::filesystem::resize_file(data, 100);  // truncated
  r = search("memory");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(dir().string()), std::string::npos) << r.err;
  r = run_cli("index --out " + q(dir()) + " --info");
  EXPECT_EQ(r.exit_code, 1);
}

TEST_F(IndexCli, DamagedVectorIndexIsRebuilt) {
  ASSERT_EQ(build().exit_code, 0);
  const auto before = search("ocean forest", "--top-k 10 --top-n 0");
  ASSERT_EQ(before.exit_code, 0) << before.err;
  std::filesystem::resize_file(dir() / "ann.hnsw", std::filesystem::file_size(dir() / "ann.hnsw") / 2);
  const auto after = search("ocean forest", "--top-k 10 --top-n 0");
  ASSERT_EQ(after.exit_code, 0) << after.err;
  EXPECT_NE(after.err.find("rebuilding the vector index"), std::string::npos) << after.err;
  EXPECT_EQ(after.out, before.out);
  std::ofstream(dir() / "ann.meta") << "{not json";
  const auto again = search("ocean forest", "--top-k 10 --top-n 0");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, before.out);
}

}  // namespace
}  // namespace rwkv::test

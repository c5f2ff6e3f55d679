// Black-box tests of `rwkv serve --index`: /v1/search equals `rwkv search`, /v1/rerank with
// document_ids (cached states) equals /v1/rerank with the texts (online), documents can be added and
// deleted, errors have the server's shape, a clean shutdown saves the vector index, and an index that does
// not fit the models is refused at start.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <httplib.h>

#include "server_process.h"
#include "test_index_support.h"
#include "util/strcat.h"

namespace rwkv::test {
namespace {

using nlohmann::json;

// `rwkv serve` arguments: the golden embedding model, `reranker` and the index in `dir`.
std::vector<std::string> index_serve_args(const std::string& reranker, const std::filesystem::path& dir) {
  return {"--port",     "0",
          "--threads",  "2",
          "--model",    golden("emb-model.bf16.pth").string(),
          "--vocab",    vocab_path().string(),
          "--reranker", golden(reranker).string(),
          "--index",    dir.string()};
}

std::vector<json> cli_lines(const std::string& out) {
  std::vector<json> v;
  std::istringstream in(out);
  std::string l;
  while (std::getline(in, l))
    if (!l.empty()) v.push_back(json::parse(l));
  return v;
}

TEST(IndexServer, SearchRerankAddDelete) {
  TempDir tmp;
  const auto docs = synthetic_documents(40, 9);
  std::ofstream(tmp.path() / "docs.jsonl") << documents_jsonl(docs);
  const auto dir = tmp.path() / "idx";
  const std::string models =
      str(" --model '", golden("emb-model.bf16.pth").string(), "' --reranker '",
          golden("reranker-b.bf16.pth").string(), "' --vocab '", vocab_path().string(), "'");
  auto r = run_cli(str("index", models, " --input '", (tmp.path() / "docs.jsonl").string(), "' --out '",
                       dir.string(), "'"));
  ASSERT_EQ(r.exit_code, 0) << r.err;

  ServerProcess s(ServeArgs(index_serve_args("reranker-b.bf16.pth", dir)));
  ASSERT_TRUE(s.wait_ready());
  auto c = s.client();
  // The reply body of a POST; `status` (if given) receives the status code.
  auto send = [&](const std::string& path, const json& body, int* status = nullptr) {
    const Reply reply = post(*c, path, body);
    if (status) *status = reply.status;
    return reply.body;
  };
  const std::string query = "recurrent memory of the river";

  // /v1/search == rwkv search.
  const json found =
      send("/v1/search", {{"query", query}, {"top_k", 20}, {"top_n", 5}, {"return_documents", true}});
  r = run_cli(str("search --index '", dir.string(), "' --vocab '", vocab_path().string(),
                  "' --top-k 20 --top-n 5 --query '", query, "'"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto cli = cli_lines(r.out);
  ASSERT_EQ(found["results"].size(), cli.size()) << found.dump();
  for (std::size_t i = 0; i < cli.size(); ++i) {
    EXPECT_EQ(found["results"][i]["id"], cli[i]["id"]);
    EXPECT_NEAR(found["results"][i]["score"].get<double>(), cli[i]["score"].get<double>(), 1e-6);
    EXPECT_TRUE(found["results"][i]["document"].contains("text"));
  }

  // /v1/rerank by ids (cached states) == /v1/rerank with the texts (online).
  std::vector<std::string> ids, texts;
  for (const std::size_t i : {3u, 17u, 25u, 39u}) {
    ids.push_back(docs[i].id);
    texts.push_back(docs[i].body());
  }
  const json by_id = send("/v1/rerank", {{"query", query}, {"document_ids", ids}});
  const json by_text = send("/v1/rerank", {{"query", query}, {"documents", texts}});
  ASSERT_EQ(by_id["results"].size(), 4u) << by_id.dump();
  ASSERT_EQ(by_text["results"].size(), 4u) << by_text.dump();
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(by_id["results"][i]["index"], by_text["results"][i]["index"]);
    EXPECT_EQ(by_id["results"][i]["id"], ids[by_id["results"][i]["index"].get<std::size_t>()]);
    EXPECT_NEAR(by_id["results"][i]["relevance_score"].get<double>(),
                by_text["results"][i]["relevance_score"].get<double>(), 5e-5);
  }
  int status = 0;
  json e = send("/v1/rerank", {{"query", query}, {"document_ids", {"doc1", "nope"}}}, &status);
  EXPECT_EQ(status, 404);
  EXPECT_EQ(e["error"]["code"], "document_not_found");
  e = send("/v1/search", {{"query", ""}}, &status);
  EXPECT_EQ(status, 422);
  EXPECT_NE(e["error"]["message"].get<std::string>().find("query"), std::string::npos);

  // Add two documents, then find them.
  const json added = send("/v1/documents", {{"documents",
                                             {{{"id", "extra-1"}, {"text", "the river remembers"}},
                                              {{"id", "extra-2"}, {"text", "memory"}, {"title", "T"}},
                                              {{"id", "doc0"}, {"text", docs[0].text}}}}});
  EXPECT_EQ(added["added"], (std::vector<std::string>{"extra-1", "extra-2"}));
  EXPECT_EQ(added["skipped"], std::vector<std::string>{"doc0"});
  EXPECT_EQ(added["documents"], 42);
  e = send("/v1/documents", {{"documents", {{{"text", "no id"}}}}}, &status);
  EXPECT_EQ(status, 422);
  const json all = send("/v1/search", {{"query", "the river remembers"}, {"top_k", 100}, {"top_n", 100}});
  ASSERT_EQ(all["results"].size(), 42u);
  bool seen = false;
  for (const auto& h : all["results"]) seen = seen || h["id"] == "extra-1";
  EXPECT_TRUE(seen);

  // Delete.
  const auto deleted = c->Delete("/v1/documents/extra-1");
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->status, 200);
  json d = json::parse(deleted->body);
  EXPECT_EQ(d["deleted"], std::vector<std::string>{"extra-1"});
  d = send("/v1/documents/delete", {{"ids", {"doc5", "nope"}}});
  EXPECT_EQ(d["deleted"], std::vector<std::string>{"doc5"});
  EXPECT_EQ(d["not_found"], std::vector<std::string>{"nope"});
  EXPECT_EQ(d["documents"], 40);

  // A clean shutdown saves the vector index: the next open needs no catch-up or rebuild.
  EXPECT_EQ(s.terminate(), 0);
  r = run_cli(str("index --out '", dir.string(), "' --info"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json info = json::parse(r.out);
  EXPECT_EQ(info["stats"]["documents"], 40);
  EXPECT_EQ(info["stats"]["ann_live"], 40);
  EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST(IndexServer, RefusesAnIndexOfOtherModels) {
  TempDir tmp;
  std::ofstream(tmp.path() / "docs.jsonl") << documents_jsonl(synthetic_documents(3));
  const auto dir = tmp.path() / "idx";
  auto r = run_cli(str("index --model '", golden("emb-model.bf16.pth").string(), "' --reranker '",
                       golden("reranker-b.bf16.pth").string(), "' --vocab '", vocab_path().string(),
                       "' --input '", (tmp.path() / "docs.jsonl").string(), "' --out '", dir.string(), "'"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const CliResult refused =
      run_serve_until_exit(index_serve_args("reranker-a.bf16.pth", dir), std::chrono::seconds(60));
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("reranker"), std::string::npos) << refused.err;
}

}  // namespace
}  // namespace rwkv::test

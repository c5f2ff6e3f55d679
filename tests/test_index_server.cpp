// Black-box tests of `rwkv serve --index`: /v1/search equals `rwkv search`, /v1/rerank with
// document_ids (cached states) equals /v1/rerank with the texts (online), documents can be added and
// deleted, errors have the server's shape, a clean shutdown saves the vector index, and an index that does
// not fit the models is refused at start.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <httplib.h>

#include "test_index_support.h"
#include "util/strcat.h"

namespace rwkv::test {
namespace {

using nlohmann::json;

// `rwkv serve` on the golden models with extra flags; SIGKILLed at destruction if still running.
class IndexServer {
 public:
  explicit IndexServer(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {RWKV_CLI_PATH, "serve",
                                     "--port",      "0",
                                     "--threads",   "2",
                                     "--model",     golden("emb-model.bf16.pth").string(),
                                     "--vocab",     vocab_path().string()};
    args.insert(args.end(), extra.begin(), extra.end());
    int out[2], err[2];
    if (pipe(out) != 0 || pipe(err) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      dup2(err[1], 2);
      close(out[0]), close(out[1]), close(err[0]), close(err[1]);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    close(err[1]);
    out_ = out[0];
    err_ = err[0];
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, 200) <= 0) continue;
      char buf[256];
      const ssize_t n = read(out_, buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, static_cast<std::size_t>(n));
    }
    const auto j = json::parse(line.substr(0, line.find('\n')), nullptr, false);
    if (!j.is_discarded() && j.contains("listening")) {
      const std::string addr = j["listening"];
      port_ = std::stoi(addr.substr(addr.rfind(':') + 1));
    }
  }
  ~IndexServer() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(out_);
    close(err_);
  }
  int port() const { return port_; }  // 0 if the server did not start
  // Waits for the exit (after SIGTERM, or a failed start); returns the exit code and stderr.
  std::pair<int, std::string> wait_exit(bool terminate) {
    if (terminate) kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    std::string err;
    char buf[4096];
    ssize_t n;
    while ((n = read(err_, buf, sizeof buf)) > 0) err.append(buf, static_cast<std::size_t>(n));
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), err};
  }
  json post(const std::string& path, const json& body, int* status = nullptr) {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(120, 0);
    auto r = c.Post(path, body.dump(), "application/json");
    if (!r) throw std::runtime_error("no response from " + path);
    if (status) *status = r->status;
    return json::parse(r->body);
  }
  json del(const std::string& path, int* status = nullptr) {
    httplib::Client c("127.0.0.1", port_);
    auto r = c.Delete(path);
    if (!r) throw std::runtime_error("no response from " + path);
    if (status) *status = r->status;
    return json::parse(r->body);
  }
  bool wait_ready() {
    httplib::Client c("127.0.0.1", port_);
    for (int i = 0; i < 300; ++i) {
      auto r = c.Get("/ready");
      if (r && r->status == 200) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1, err_ = -1, port_ = 0;
};

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

  IndexServer s({"--reranker", golden("reranker-b.bf16.pth").string(), "--index", dir.string()});
  ASSERT_GT(s.port(), 0);
  ASSERT_TRUE(s.wait_ready());
  const std::string query = "recurrent memory of the river";

  // /v1/search == rwkv search.
  const json found =
      s.post("/v1/search", {{"query", query}, {"top_k", 20}, {"top_n", 5}, {"return_documents", true}});
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
  const json by_id = s.post("/v1/rerank", {{"query", query}, {"document_ids", ids}});
  const json by_text = s.post("/v1/rerank", {{"query", query}, {"documents", texts}});
  ASSERT_EQ(by_id["results"].size(), 4u) << by_id.dump();
  ASSERT_EQ(by_text["results"].size(), 4u) << by_text.dump();
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(by_id["results"][i]["index"], by_text["results"][i]["index"]);
    EXPECT_EQ(by_id["results"][i]["id"], ids[by_id["results"][i]["index"].get<std::size_t>()]);
    EXPECT_NEAR(by_id["results"][i]["relevance_score"].get<double>(),
                by_text["results"][i]["relevance_score"].get<double>(), 5e-5);
  }
  int status = 0;
  json e = s.post("/v1/rerank", {{"query", query}, {"document_ids", {"doc1", "nope"}}}, &status);
  EXPECT_EQ(status, 404);
  EXPECT_EQ(e["error"]["code"], "document_not_found");
  e = s.post("/v1/search", {{"query", ""}}, &status);
  EXPECT_EQ(status, 422);
  EXPECT_NE(e["error"]["message"].get<std::string>().find("query"), std::string::npos);

  // Add two documents, then find them.
  const json added = s.post("/v1/documents", {{"documents",
                                               {{{"id", "extra-1"}, {"text", "the river remembers"}},
                                                {{"id", "extra-2"}, {"text", "memory"}, {"title", "T"}},
                                                {{"id", "doc0"}, {"text", docs[0].text}}}}});
  EXPECT_EQ(added["added"], (std::vector<std::string>{"extra-1", "extra-2"}));
  EXPECT_EQ(added["skipped"], std::vector<std::string>{"doc0"});
  EXPECT_EQ(added["documents"], 42);
  e = s.post("/v1/documents", {{"documents", {{{"text", "no id"}}}}}, &status);
  EXPECT_EQ(status, 422);
  const json all = s.post("/v1/search", {{"query", "the river remembers"}, {"top_k", 100}, {"top_n", 100}});
  ASSERT_EQ(all["results"].size(), 42u);
  bool seen = false;
  for (const auto& h : all["results"]) seen = seen || h["id"] == "extra-1";
  EXPECT_TRUE(seen);

  // Delete.
  json d = s.del("/v1/documents/extra-1", &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(d["deleted"], std::vector<std::string>{"extra-1"});
  d = s.post("/v1/documents/delete", {{"ids", {"doc5", "nope"}}});
  EXPECT_EQ(d["deleted"], std::vector<std::string>{"doc5"});
  EXPECT_EQ(d["not_found"], std::vector<std::string>{"nope"});
  EXPECT_EQ(d["documents"], 40);

  // A clean shutdown saves the vector index: the next open needs no catch-up or rebuild.
  const auto [code, err] = s.wait_exit(true);
  EXPECT_EQ(code, 0) << err;
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
  IndexServer s({"--reranker", golden("reranker-a.bf16.pth").string(), "--index", dir.string()});
  EXPECT_EQ(s.port(), 0);
  const auto [code, err] = s.wait_exit(false);
  EXPECT_EQ(code, 1);
  EXPECT_NE(err.find("reranker"), std::string::npos) << err;
}

}  // namespace
}  // namespace rwkv::test

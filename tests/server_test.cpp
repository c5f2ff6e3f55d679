// Black-box tests of `rwkv serve`: the real binary on the golden models, spoken to over HTTP. Every route's
// shape and status codes, errors, API keys and limits, equality with `rwkv embed` / `rwkv rerank`,
// concurrent clients against single-request results, and a clean exit on SIGTERM. The flags added later
// (concurrency limit, key files, CORS, batching off) and cancellation are in server_flags_test.cpp.
#include <chrono>
#include <cstring>
#include <memory>
#include <sstream>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "server_process.h"
#include "test_support.h"

namespace rwkv::test {
namespace {

using nlohmann::json;

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto s = std::make_unique<ServerProcess>(std::vector<std::string>{"--max-client-batch-size", "8"});
    if (s->wait_ready()) server_ = s.release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    if (!server_) GTEST_FAIL() << "the server did not start";
  }
  static ServerProcess* server_;
};
ServerProcess* ServerTest::server_ = nullptr;

TEST_F(ServerTest, ProbesInfoModelsAndMetrics) {
  auto c = server_->client();
  EXPECT_EQ(get(*c, "/health").status, 200);
  EXPECT_EQ(get(*c, "/ready").status, 200);
  const auto info = get(*c, "/info");
  ASSERT_EQ(info.status, 200) << info.text;
  EXPECT_EQ(info.body["model_kind"], "x070-embedding");
  EXPECT_EQ(info.body["dims"]["n_embd"], 128);
  EXPECT_EQ(info.body["threads"], 2);
  EXPECT_EQ(info.body["precision"], "fp32");
  EXPECT_EQ(info.body["limits"]["max_client_batch_size"], 8);
  EXPECT_TRUE(info.body.contains("isa") && info.body.contains("version"));
  const auto models = get(*c, "/v1/models");
  ASSERT_EQ(models.status, 200);
  EXPECT_EQ(models.body["object"], "list");
  EXPECT_EQ(models.body["data"][0]["id"], "emb-model.bf16");
  EXPECT_EQ(models.body["data"][1]["id"], "reranker-b.bf16");
  EXPECT_TRUE(IsError(get(*c, "/no-such-route"), 404));
  ASSERT_EQ(post(*c, "/embed", json{{"inputs", "metrics"}}).status, 200);
  // Requests are counted after their response is written: poll briefly.
  std::string metrics;
  for (int i = 0; i < 100 && metrics.find("route=\"/embed\",status=\"200\"") == std::string::npos; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const auto m = c->Get("/metrics");
    ASSERT_TRUE(m);
    metrics = m->body;
  }
  for (const char* s : {"rwkv_requests_total{route=\"/embed\",status=\"200\"} ", "rwkv_queue_size ",
                        "rwkv_batch_size_bucket{le=", "rwkv_batch_tokens_count ", "rwkv_queue_seconds_sum ",
                        "rwkv_inference_seconds_bucket{le=\"+Inf\"}", "rwkv_tokens_total ",
                        "rwkv_requests_total{route=\"other\",status=\"404\"} "})
    EXPECT_NE(metrics.find(s), std::string::npos) << s << "\n" << metrics;
}

TEST_F(ServerTest, EmbeddingsEqualTheCliExactly) {
  auto c = server_->client();
  const auto cli = run_cli("embed --threads 2 --model " + q(golden("emb-model.bf16.pth")) + " --vocab " +
                           q(vocab_path()) + " 'Hello world' 'RWKV is an RNN'");
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  std::vector<std::vector<float>> want;
  std::istringstream lines(cli.out);
  for (std::string line; std::getline(lines, line);) want.push_back(json::parse(line)["embedding"]);
  ASSERT_EQ(want.size(), 2u);

  const auto r =
      post(*c, "/v1/embeddings", json{{"input", {"Hello world", "RWKV is an RNN"}}, {"model", "x"}});
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["object"], "list");
  EXPECT_EQ(r.body["model"], "emb-model.bf16");
  ASSERT_EQ(r.body["data"].size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(r.body["data"][i]["object"], "embedding");
    EXPECT_EQ(r.body["data"][i]["index"], i);
    EXPECT_EQ(r.body["data"][i]["embedding"].get<std::vector<float>>(), want[i]) << i;
  }
  const auto tok = post(*c, "/tokenize", json{{"inputs", {"Hello world", "RWKV is an RNN"}}});
  ASSERT_EQ(tok.status, 200) << tok.text;
  const long n = static_cast<long>(tok.body[0].size() + tok.body[1].size());
  EXPECT_EQ(r.body["usage"]["prompt_tokens"], n);
  EXPECT_EQ(r.body["usage"]["total_tokens"], n);

  // A single string; token arrays (EOS appended when absent); base64 of little-endian float32.
  const auto one = post(*c, "/v1/embeddings", json{{"input", "Hello world"}, {"dimensions", 128}});
  ASSERT_EQ(one.status, 200) << one.text;
  EXPECT_EQ(one.body["data"][0]["embedding"].get<std::vector<float>>(), want[0]);
  std::vector<int> ids = tok.body[0];
  ids.pop_back();
  const auto toks = post(*c, "/v1/embeddings", json{{"input", json::array({ids, tok.body[0]})}});
  ASSERT_EQ(toks.status, 200) << toks.text;
  EXPECT_EQ(toks.body["data"][0]["embedding"].get<std::vector<float>>(), want[0]);
  EXPECT_EQ(toks.body["data"][1]["embedding"].get<std::vector<float>>(), want[0]);
  const auto flat = post(*c, "/v1/embeddings", json{{"input", ids}});
  ASSERT_EQ(flat.status, 200) << flat.text;
  EXPECT_EQ(flat.body["data"].size(), 1u);
  const auto b64 = post(*c, "/v1/embeddings", json{{"input", "Hello world"}, {"encoding_format", "base64"}});
  ASSERT_EQ(b64.status, 200) << b64.text;
  const std::string s = b64.body["data"][0]["embedding"];
  ASSERT_EQ(s.size(), (128 * 4 + 2) / 3 * 4);
  std::string bytes;
  auto val = [](char ch) {
    return static_cast<std::uint32_t>(
        std::strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", ch) -
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
  };
  for (std::size_t i = 0; i < s.size(); i += 4) {
    std::uint32_t v = 0;
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      v <<= 6;
      if (s[i + k] == '=')
        ++pad;
      else
        v |= val(s[i + k]);
    }
    for (int k = 0; k < 3 - pad; ++k) bytes += static_cast<char>((v >> (16 - 8 * k)) & 0xff);
  }
  ASSERT_EQ(bytes.size(), 128u * 4);
  std::vector<float> decoded(128);
  std::memcpy(decoded.data(), bytes.data(), bytes.size());  // the test machine is little-endian
  EXPECT_EQ(decoded, want[0]);

  // TEI /embed: normalised [RETR] by default; prompt_name picks the head; normalize=false.
  const auto tei = post(*c, "/embed", json{{"inputs", {"Hello world", "RWKV is an RNN"}}});
  ASSERT_EQ(tei.status, 200) << tei.text;
  EXPECT_EQ(tei.body[0].get<std::vector<float>>(), want[0]);
  EXPECT_EQ(tei.body[1].get<std::vector<float>>(), want[1]);
  const auto sts_cli =
      run_cli("embed --threads 2 --task sts --no-normalize --model " + q(golden("emb-model.bf16.pth")) +
              " --vocab " + q(vocab_path()) + " 'Hello world'");
  ASSERT_EQ(sts_cli.exit_code, 0) << sts_cli.err;
  const auto sts =
      post(*c, "/embed", json{{"inputs", "Hello world"}, {"prompt_name", "sts"}, {"normalize", false}});
  ASSERT_EQ(sts.status, 200) << sts.text;
  EXPECT_EQ(sts.body[0].get<std::vector<float>>(),
            json::parse(sts_cli.out)["embedding"].get<std::vector<float>>());
}

TEST_F(ServerTest, RerankBothDialectsMatchTheCli) {
  auto c = server_->client();
  const std::vector<std::string> docs = {"RWKV is an RNN with transformer-level quality.",
                                         "Paris is in France.", "Cats sleep a lot."};
  const auto cli = run_cli("rerank --threads 2 --model " + q(golden("emb-model.bf16.pth")) + " --reranker " +
                           q(golden("reranker-b.bf16.pth")) + " --vocab " + q(vocab_path()) +
                           " --query 'what is RWKV?' '" + docs[0] + "' '" + docs[1] + "' '" + docs[2] + "'");
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  std::vector<json> want;
  std::istringstream lines(cli.out);
  for (std::string line; std::getline(lines, line);) want.push_back(json::parse(line));
  ASSERT_EQ(want.size(), 3u);

  for (const char* path : {"/rerank", "/v1/rerank"}) {
    const auto tei = post(*c, path, json{{"query", "what is RWKV?"}, {"texts", docs}, {"return_text", true}});
    ASSERT_EQ(tei.status, 200) << tei.text;
    ASSERT_EQ(tei.body.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(tei.body[i]["index"], want[i]["index"]);
      EXPECT_EQ(tei.body[i]["score"].get<float>(), want[i]["score"].get<float>());
      EXPECT_EQ(tei.body[i]["text"], docs[want[i]["index"].get<std::size_t>()]);
    }
    const auto raw = post(*c, path, json{{"query", "what is RWKV?"}, {"texts", docs}, {"raw_scores", true}});
    ASSERT_EQ(raw.status, 200) << raw.text;
    EXPECT_EQ(raw.body[0]["score"].get<float>(), want[0]["logit"].get<float>());
    EXPECT_FALSE(raw.body[0].contains("text"));

    const json documents = {docs[0], {{"text", docs[1]}}, docs[2]};
    const auto co = post(
        *c, path,
        json{{"query", "what is RWKV?"}, {"documents", documents}, {"top_n", 2}, {"return_documents", true}});
    ASSERT_EQ(co.status, 200) << co.text;
    EXPECT_EQ(co.body["model"], "reranker-b.bf16");
    ASSERT_EQ(co.body["results"].size(), 2u);
    for (std::size_t i = 0; i < 2; ++i) {
      EXPECT_EQ(co.body["results"][i]["index"], want[i]["index"]);
      EXPECT_EQ(co.body["results"][i]["relevance_score"].get<float>(), want[i]["score"].get<float>());
      EXPECT_EQ(co.body["results"][i]["document"]["text"], docs[want[i]["index"].get<std::size_t>()]);
    }
    const auto co2 = post(*c, path, json{{"query", "what is RWKV?"}, {"documents", docs}});
    ASSERT_EQ(co2.status, 200) << co2.text;
    EXPECT_EQ(co2.body["results"].size(), 3u);
    EXPECT_FALSE(co2.body["results"][0].contains("document"));
  }
}

TEST_F(ServerTest, TokenizeAndDetokenize) {
  auto c = server_->client();
  const auto t = post(*c, "/tokenize", json{{"inputs", "Hello world"}});
  ASSERT_EQ(t.status, 200) << t.text;
  ASSERT_EQ(t.body.size(), 1u);
  EXPECT_EQ(t.body[0].back(), 65535);
  const auto plain = post(*c, "/tokenize", json{{"inputs", "Hello world"}, {"add_special_tokens", false}});
  ASSERT_EQ(plain.status, 200);
  EXPECT_EQ(plain.body[0].size() + 1, t.body[0].size());
  const auto d = post(*c, "/detokenize", json{{"ids", plain.body[0]}});
  ASSERT_EQ(d.status, 200) << d.text;
  EXPECT_EQ(d.body, json::array({"Hello world"}));
  const auto d2 =
      post(*c, "/detokenize", json{{"ids", {t.body[0], plain.body[0]}}, {"skip_special_tokens", true}});
  ASSERT_EQ(d2.status, 200) << d2.text;
  EXPECT_EQ(d2.body, json::array({"Hello world", "Hello world"}));
  EXPECT_TRUE(IsError(post(*c, "/detokenize", json{{"ids", t.body[0]}}), 422, "ids"));
  EXPECT_TRUE(IsError(post(*c, "/detokenize", json{{"ids", {1, 70000}}}), 422, "ids[1]"));
}

TEST_F(ServerTest, ErrorsAreOpenAiShapedAndNameTheField) {
  auto c = server_->client();
  EXPECT_TRUE(IsError(post(*c, "/v1/embeddings", std::string("{oops")), 400));
  EXPECT_TRUE(IsError(post(*c, "/embed", std::string("[1, 2]")), 422, "object"));
  EXPECT_TRUE(IsError(post(*c, "/v1/embeddings", json{{"model", "m"}}), 422, "`input`"));
  EXPECT_TRUE(IsError(post(*c, "/v1/embeddings", json{{"input", 5}}), 422, "`input`"));
  EXPECT_TRUE(IsError(post(*c, "/v1/embeddings", json::parse(R"({"input": []})")), 422, "`input`"));
  EXPECT_TRUE(IsError(post(*c, "/v1/embeddings", json{{"input", ""}}), 422, "empty text"));
  EXPECT_TRUE(IsError(post(*c, "/v1/embeddings", json{{"input", {"a", 3}}}), 422, "`input[1]`"));
  EXPECT_TRUE(IsError(post(*c, "/v1/embeddings", json{{"input", {"a", ""}}}), 422, "`input[1]`"));
  EXPECT_TRUE(IsError(post(*c, "/v1/embeddings", json{{"input", json::array({json::array({1, 70000})})}}),
                      422, "`input[0][1]`"));
  EXPECT_TRUE(IsError(post(*c, "/v1/embeddings", json{{"input", std::vector<std::string>(9, "x")}}), 422,
                      "max-client-batch"));
  EXPECT_TRUE(
      IsError(post(*c, "/v1/embeddings", json{{"input", "a"}, {"dimensions", 64}}), 422, "`dimensions`"));
  EXPECT_TRUE(IsError(post(*c, "/v1/embeddings", json{{"input", "a"}, {"encoding_format", "hex"}}), 422,
                      "`encoding_format`"));
  EXPECT_TRUE(IsError(post(*c, "/v1/embeddings", json{{"input", "a"}, {"model", 3}}), 422, "`model`"));
  EXPECT_TRUE(
      IsError(post(*c, "/embed", json{{"inputs", "a"}, {"prompt_name", "nope"}}), 422, "`prompt_name`"));
  EXPECT_TRUE(IsError(post(*c, "/embed", json{{"inputs", "a"}, {"normalize", "yes"}}), 422, "`normalize`"));
  EXPECT_TRUE(IsError(post(*c, "/embed", json{{"text", "a"}}), 422, "`inputs`"));
  EXPECT_TRUE(IsError(post(*c, "/rerank", json{{"texts", {"a"}}}), 422, "`query`"));
  EXPECT_TRUE(IsError(post(*c, "/rerank", json{{"query", "q"}}), 422, "`documents`"));
  EXPECT_TRUE(IsError(post(*c, "/rerank", json{{"query", "q"}, {"texts", {"a", 1}}}), 422, "`texts[1]`"));
  EXPECT_TRUE(IsError(post(*c, "/v1/rerank", json{{"query", "q"}, {"documents", {json{{"txt", "a"}}}}}), 422,
                      "`documents[0]`"));
  EXPECT_TRUE(IsError(post(*c, "/v1/rerank", json{{"query", "q"}, {"documents", {"a"}}, {"top_n", 0}}), 422,
                      "`top_n`"));
  EXPECT_TRUE(IsError(post(*c, "/rerank", json{{"query", "q"}, {"texts", std::vector<std::string>(9, "x")}}),
                      422, "max-client-batch"));
  EXPECT_TRUE(IsError(post(*c, "/tokenize", json{{"inputs", {1}}}), 422, "`inputs[0]`"));
}

TEST_F(ServerTest, ConcurrentClientsGetSingleRequestResults) {
  const std::vector<std::string> texts = {
      "Hello world",
      "RWKV is an RNN",
      "a",
      "The quick brown fox jumps over the lazy dog. " + std::string(300, 'z'),
      "Paris is the capital of France.",
      "12345 67890",
      "\xe4\xbd\xa0\xe5\xa5\xbd"};
  auto c = server_->client();
  std::vector<std::vector<float>> want;
  for (const auto& t : texts) {
    const auto r = post(*c, "/embed", json{{"inputs", t}});
    ASSERT_EQ(r.status, 200) << r.text;
    want.push_back(r.body[0]);
  }
  constexpr int kThreads = 16, kRequests = 20;
  std::vector<int> failures(kThreads, 0), mismatches(kThreads, 0);
  std::vector<std::string> first_failure(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      auto cl = server_->client();
      for (int i = 0; i < kRequests; ++i) {
        const std::size_t a = static_cast<std::size_t>(t + i) % texts.size(),
                          b = static_cast<std::size_t>(t * 3 + i) % texts.size();
        const auto r = (i % 2) ? post(*cl, "/embed", json{{"inputs", {texts[a], texts[b]}}})
                               : post(*cl, "/v1/embeddings", json{{"input", {texts[a], texts[b]}}});
        if (r.status != 200) {
          if (failures[t]++ == 0) first_failure[t] = std::to_string(r.status) + " " + r.text;
          continue;
        }
        const json& va = (i % 2) ? r.body[0] : r.body["data"][0]["embedding"];
        const json& vb = (i % 2) ? r.body[1] : r.body["data"][1]["embedding"];
        if (va.get<std::vector<float>>() != want[a] || vb.get<std::vector<float>>() != want[b])
          ++mismatches[t];
      }
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(failures[t], 0) << "thread " << t << ", first: " << first_failure[t];
    EXPECT_EQ(mismatches[t], 0) << "thread " << t;
  }
}

TEST(ServerLimits, FullQueueAnswers429WithRetryAfter) {
  ServerProcess s({"--max-queue", "1", "--http-threads", "16"});
  ASSERT_TRUE(s.wait_ready());
  const std::string body =
      json{{"inputs", std::vector<std::string>(4, std::string(3000, 'q') + " x")}}.dump();
  std::vector<Reply> replies(16);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < replies.size(); ++t)
    threads.emplace_back([&, t] {
      auto c = s.client();
      replies[t] = post(*c, "/embed", body);
    });
  for (auto& th : threads) th.join();
  int ok = 0, full = 0;
  for (const auto& r : replies) {
    if (r.status == 200) {
      ++ok;
    } else {
      EXPECT_TRUE(IsError(r, 429, "queue is full"));
      EXPECT_EQ(r.retry_after, "1");
      ++full;
    }
  }
  EXPECT_GE(ok, 1);
  EXPECT_GE(full, 1) << "16 simultaneous requests never found the 1-item queue full";
  EXPECT_EQ(s.terminate(), 0);
}

TEST(ServerLimits, ApiKeysPayloadAndInputLimits) {
  ServerProcess s(
      {"--api-key", "k1", "--api-key", "k2", "--payload-limit", "65536", "--max-input-tokens", "6"});
  ASSERT_TRUE(s.wait_ready());
  auto c = s.client();
  EXPECT_EQ(get(*c, "/health").status, 200);
  EXPECT_EQ(get(*c, "/ready").status, 200);
  const std::string body = json{{"inputs", "Hello world"}}.dump();
  EXPECT_TRUE(IsError(post(*c, "/embed", body), 401));
  EXPECT_TRUE(IsError(post(*c, "/embed", body, {{"Authorization", "Bearer wrong"}}), 401));
  EXPECT_TRUE(IsError(get(*c, "/info"), 401));
  EXPECT_EQ(post(*c, "/embed", body, {{"Authorization", "Bearer k1"}}).status, 200);
  EXPECT_EQ(post(*c, "/embed", body, {{"Authorization", "Bearer k2"}}).status, 200);
  const httplib::Headers auth = {{"Authorization", "Bearer k1"}};
  // Body over --payload-limit.
  EXPECT_EQ(post(*c, "/embed", json{{"inputs", std::string(70000, 'a')}}.dump(), auth).status, 413);
  // --max-input-tokens: 422 unless truncate.
  const std::string long_text = "one two three four five six seven eight nine ten";
  auto r = post(*c, "/embed", json{{"inputs", long_text}}.dump(), auth);
  EXPECT_TRUE(IsError(r, 422, "max-input-tokens"));
  r = post(*c, "/embed", json{{"inputs", long_text}, {"truncate", true}}.dump(), auth);
  EXPECT_EQ(r.status, 200) << r.text;
  r = post(*c, "/v1/embeddings", json{{"input", long_text}}.dump(), auth);
  EXPECT_TRUE(IsError(r, 422, "`input`"));
  EXPECT_EQ(s.terminate(), 0);
}

TEST(ServerLimits, ModelThatCannotLoadExitsOne) {
  TempDir tmp;
  ServerProcess s(std::vector<std::string>{}, (tmp.path() / "missing.pth").string());
  EXPECT_EQ(s.wait_exit(), 1);
}

TEST(ServerLimits, SigtermFinishesInFlightAndExitsZero) {
  ServerProcess s(std::vector<std::string>{});
  ASSERT_TRUE(s.wait_ready());
  std::vector<std::string> many(8, std::string(20000, 'w') + " words");
  Reply r;
  std::thread client([&] {
    auto c = s.client();
    r = post(*c, "/embed", json{{"inputs", many}});
  });
  // Wait until the inference thread has started on the request (its batch is counted first), then stop.
  auto c = s.client();
  for (int i = 0; i < 500; ++i) {
    const auto m = c->Get("/metrics");
    if (m && m->body.find("rwkv_batch_size_count 1") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(s.terminate(), 0);
  client.join();
  EXPECT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body.size(), many.size());
}

}  // namespace
}  // namespace rwkv::test

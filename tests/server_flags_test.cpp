// Black-box tests of `rwkv serve` flags and behaviours beyond the routes: --max-concurrent-requests,
// --api-key-file, --cors-allow-origin, --max-batch-requests, and cancellation of queued work whose client
// disconnected or timed out. Helpers in server_process.h. Client threads are std::jthread, so that a failed
// assertion returns without leaving a joinable thread behind.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "server_process.h"
#include "test_support.h"

namespace rwkv::test {
namespace {

using nlohmann::json;

// A request that keeps the inference thread busy for a few seconds on the golden model (32 inputs: the
// default --max-client-batch-size).
const std::string& long_request() {
  static const std::string body =
      json{{"inputs", std::vector<std::string>(32, std::string(20000, 'w') + " words")}}.dump();
  return body;
}

std::string metrics(const ServerProcess& s) {
  auto c = s.client();
  const auto r = c->Get("/metrics");
  return r ? r->body : std::string();
}

// Polls /metrics (every 10 ms, at most `seconds`) until `series` has at least `value`.
bool wait_metric(const ServerProcess& s, const std::string& series, double value, int seconds = 30) {
  for (int i = 0; i < seconds * 100; ++i) {
    if (metric_value(metrics(s), series) >= value) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// Sends a complete POST on a new connection and returns the socket without reading the answer.
int send_request(int port, const std::string& path, const std::string& body) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  std::string req = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n";
  req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    close(fd);
    return -1;
  }
  return fd;
}

// The number of tokens the server runs for these texts (one EOS each).
long tokens_of(httplib::Client& c, const std::vector<std::string>& texts) {
  const auto r = post(c, "/tokenize", json{{"inputs", texts}});
  long n = 0;
  for (const auto& ids : r.body) n += static_cast<long>(ids.size());
  return n;
}

TEST(ServerFlags, HelpListsTheFlagsAndTheirEnvironmentVariables) {
  const auto r = run_cli("serve --help");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* s :
       {"--max-concurrent-requests", "RWKV_MAX_CONCURRENT_REQUESTS", "--api-key-file", "RWKV_API_KEY_FILE",
        "--cors-allow-origin", "RWKV_CORS_ALLOW_ORIGIN", "--max-batch-requests", "RWKV_MAX_BATCH_REQUESTS"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
}

TEST(ServerFlags, ApiKeyFileAddsKeys) {
  TempDir tmp;
  const auto file = tmp.path() / "keys.txt";
  std::ofstream(file) << "file-key-1\n\n   file-key-2  \r\n";
  ServerProcess s({"--api-key-file", file.string(), "--api-key", "flag-key"});
  ASSERT_TRUE(s.wait_ready());
  auto c = s.client();
  const std::string body = json{{"inputs", "Hello world"}}.dump();
  EXPECT_TRUE(IsError(post(*c, "/embed", body), 401));
  for (const char* k : {"file-key-1", "file-key-2", "flag-key"})
    EXPECT_EQ(post(*c, "/embed", body, {{"Authorization", std::string("Bearer ") + k}}).status, 200) << k;
  for (const char* bad : {"Bearer file-key-", "Bearer file-key-1x", "file-key-1", "Bearer  file-key-2"})
    EXPECT_TRUE(IsError(post(*c, "/embed", body, {{"Authorization", bad}}), 401)) << bad;
  EXPECT_EQ(get(*c, "/health").status, 200);
  EXPECT_EQ(s.terminate(), 0);
}

TEST(ServerFlags, BadApiKeyFileIsAStartupErrorThatNeverShowsAKey) {
  TempDir tmp;
  const auto model = golden("emb-model.bf16.pth").string();
  auto run = [&](const std::string& file) {
    return run_serve_until_exit({"--port", "0", "--model", model, "--vocab", vocab_path().string(),
                                 "--api-key", "secret-flag-key", "--api-key-file", file},
                                std::chrono::seconds(20));
  };
  const auto missing = run((tmp.path() / "missing.txt").string());
  EXPECT_EQ(missing.exit_code, 1) << missing.err;
  EXPECT_NE(missing.err.find("missing.txt"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("cannot open"), std::string::npos) << missing.err;
  EXPECT_EQ(missing.out.find("listening"), std::string::npos) << "it must fail before listening";

  const auto blank = tmp.path() / "blank.txt";
  std::ofstream(blank) << "\n  \n\r\n";
  const auto b = run(blank.string());
  EXPECT_EQ(b.exit_code, 1) << b.err;
  EXPECT_NE(b.err.find("no key"), std::string::npos) << b.err;

  const auto spaced = tmp.path() / "spaced.txt";
  std::ofstream(spaced) << "good-key\nsecret one-XYZ\n";
  const auto sp = run(spaced.string());
  EXPECT_EQ(sp.exit_code, 1) << sp.err;
  EXPECT_NE(sp.err.find("line 2"), std::string::npos) << sp.err;
  for (const auto* r : {&missing, &b, &sp})
    for (const char* secret : {"one-XYZ", "good-key", "secret-flag-key"}) {
      EXPECT_EQ(r->err.find(secret), std::string::npos) << r->err;
      EXPECT_EQ(r->out.find(secret), std::string::npos) << r->out;
    }

  // The environment variable names the file too.
  setenv("RWKV_API_KEY_FILE", (tmp.path() / "from-env.txt").c_str(), 1);
  const auto env = run_serve_until_exit({"--port", "0", "--model", model, "--vocab", vocab_path().string()},
                                        std::chrono::seconds(20));
  unsetenv("RWKV_API_KEY_FILE");
  EXPECT_EQ(env.exit_code, 1) << env.err;
  EXPECT_NE(env.err.find("from-env.txt"), std::string::npos) << env.err;
}

TEST(ServerFlags, CorsHeadersOnEveryResponseAndPreflightWithoutKey) {
  ServerProcess s({"--cors-allow-origin", "http://app.example", "--cors-allow-origin",
                   "http://two.example:8443", "--api-key", "k"});
  ASSERT_TRUE(s.wait_ready());
  auto c = s.client();
  const httplib::Headers preflight = {
      {"Origin", "http://app.example"},
      {"Access-Control-Request-Method", "POST"},
      {"Access-Control-Request-Headers", "authorization, content-type, x-sdk"}};
  auto r = c->Options("/v1/embeddings", preflight);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->get_header_value("Access-Control-Allow-Origin"), "http://app.example");
  EXPECT_NE(r->get_header_value("Access-Control-Allow-Methods").find("POST"), std::string::npos);
  EXPECT_EQ(r->get_header_value("Access-Control-Allow-Headers"), "authorization, content-type, x-sdk");
  EXPECT_EQ(r->get_header_value("Vary"), "Origin");

  r = c->Options("/v1/embeddings",
                 {{"Origin", "http://evil.example"}, {"Access-Control-Request-Method", "POST"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_FALSE(r->has_header("Access-Control-Allow-Origin"));

  const std::string body = json{{"inputs", "Hello world"}}.dump();
  auto reply =
      post(*c, "/embed", body, {{"Origin", "http://two.example:8443"}, {"Authorization", "Bearer k"}});
  EXPECT_EQ(reply.status, 200) << reply.text;
  auto header = [](const Reply& rp, const std::string& name) {
    const auto it = rp.headers.find(name);
    return it == rp.headers.end() ? std::string("(absent)") : it->second;
  };
  EXPECT_EQ(header(reply, "Access-Control-Allow-Origin"), "http://two.example:8443");
  EXPECT_NE(header(reply, "Access-Control-Expose-Headers").find("Retry-After"), std::string::npos);
  // Errors carry the headers too, so that the page can read them.
  reply = post(*c, "/embed", body, {{"Origin", "http://app.example"}});
  EXPECT_TRUE(IsError(reply, 401));
  EXPECT_EQ(header(reply, "Access-Control-Allow-Origin"), "http://app.example");
  reply = get(*c, "/nowhere", {{"Origin", "http://app.example"}, {"Authorization", "Bearer k"}});
  EXPECT_TRUE(IsError(reply, 404));
  EXPECT_EQ(header(reply, "Access-Control-Allow-Origin"), "http://app.example");
  // Other origins, or no Origin: no CORS headers (the answer itself is unchanged).
  reply = post(*c, "/embed", body, {{"Origin", "http://evil.example"}, {"Authorization", "Bearer k"}});
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(header(reply, "Access-Control-Allow-Origin"), "(absent)");
  reply = get(*c, "/health");
  EXPECT_EQ(header(reply, "Access-Control-Allow-Origin"), "(absent)");
  EXPECT_EQ(s.terminate(), 0);
}

TEST(ServerFlags, CorsWildcardAndNoCorsByDefault) {
  ServerProcess any({"--cors-allow-origin", "*"});
  ASSERT_TRUE(any.wait_ready());
  auto c = any.client();
  auto r = c->Options("/embed", {{"Origin", "http://x.example"}, {"Access-Control-Request-Method", "POST"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->get_header_value("Access-Control-Allow-Origin"), "*");
  EXPECT_FALSE(r->has_header("Vary"));
  EXPECT_NE(r->get_header_value("Access-Control-Allow-Headers").find("Authorization"), std::string::npos);
  EXPECT_EQ(any.terminate(), 0);

  ServerProcess none({});
  ASSERT_TRUE(none.wait_ready());
  auto c2 = none.client();
  const auto reply = post(*c2, "/embed", json{{"inputs", "Hello"}}.dump(), {{"Origin", "http://x.example"}});
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.headers.count("Access-Control-Allow-Origin"), 0u);
  r = c2->Options("/embed", {{"Origin", "http://x.example"}, {"Access-Control-Request-Method", "POST"}});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_header("Access-Control-Allow-Origin"));
  EXPECT_EQ(none.terminate(), 0);
}

TEST(ServerFlags, MaxConcurrentRequestsAnswers429WithRetryAfter) {
  ServerProcess s({"--max-concurrent-requests", "1"});
  ASSERT_TRUE(s.wait_ready());
  Reply first;
  std::jthread busy([&] {
    auto c = s.client();
    first = post(*c, "/embed", long_request());
  });
  // Once the long request runs on the inference thread, it holds the one slot for a while.
  ASSERT_TRUE(wait_metric(s, "rwkv_batch_size_count", 1));
  EXPECT_EQ(metric_value(metrics(s), "rwkv_requests_in_flight"), 1);
  auto c = s.client();
  const auto refused = post(*c, "/embed", json{{"inputs", "Hello world"}});
  EXPECT_TRUE(IsError(refused, 429, "--max-concurrent-requests 1"));
  EXPECT_EQ(refused.retry_after, "1");
  EXPECT_EQ(get(*c, "/health").status, 200);  // probes are not counted
  busy.join();
  EXPECT_EQ(first.status, 200) << first.text;
  EXPECT_EQ(post(*c, "/embed", json{{"inputs", "Hello world"}}).status, 200);
  EXPECT_EQ(metric_value(metrics(s), "rwkv_requests_in_flight"), 0);
  EXPECT_EQ(get(*c, "/info").body["limits"]["max_concurrent_requests"], 1);
  EXPECT_EQ(s.terminate(), 0);
}

TEST(ServerFlags, AbandonedQueuedRequestsAreDroppedNotComputed) {
  ServerProcess s({});
  ASSERT_TRUE(s.wait_ready());
  Reply first;
  std::jthread busy([&] {
    auto c = s.client();
    first = post(*c, "/embed", long_request());
  });
  ASSERT_TRUE(wait_metric(s, "rwkv_batch_size_count", 1));  // the inference thread is busy

  // Three clients queue a request and hang up; two more give up after a 250 ms read timeout.
  std::vector<int> sockets;
  for (int i = 0; i < 3; ++i) {
    sockets.push_back(
        send_request(s.port(), "/embed", json{{"inputs", "abandoned " + std::to_string(i)}}.dump()));
    ASSERT_GE(sockets.back(), 0);
  }
  ASSERT_TRUE(wait_metric(s, "rwkv_queue_size", 3));
  for (const int fd : sockets) close(fd);
  std::vector<std::jthread> impatient;
  std::vector<int> impatient_ok(2, -1);
  for (int i = 0; i < 2; ++i)
    impatient.emplace_back([&, i] {
      auto c = s.client();
      c->set_read_timeout(0, 250000);
      impatient_ok[static_cast<std::size_t>(i)] =
          static_cast<bool>(c->Post("/embed", json{{"inputs", "impatient"}}.dump(), "application/json"));
    });
  for (auto& t : impatient) t.join();
  EXPECT_EQ(impatient_ok, std::vector<int>(2, 0)) << "the impatient clients must time out";

  ASSERT_TRUE(wait_metric(s, "rwkv_cancelled_total", 5)) << metrics(s);
  const std::string during = metrics(s);
  EXPECT_EQ(metric_value(during, "rwkv_queue_size"), 0) << during;
  EXPECT_EQ(metric_value(during, "rwkv_cancelled_total"), 5) << during;
  busy.join();
  ASSERT_EQ(first.status, 200) << first.text;

  // Later requests are served, and only they and the long one were ever computed.
  auto c = s.client();
  const auto after = post(*c, "/embed", json{{"inputs", {"after", "the abandoned ones"}}});
  ASSERT_EQ(after.status, 200) << after.text;
  EXPECT_EQ(after.body.size(), 2u);
  const auto m = metrics(s);
  EXPECT_EQ(metric_value(m, "rwkv_batch_size_count"), 2) << m;
  const long want = tokens_of(*c, json::parse(long_request())["inputs"].get<std::vector<std::string>>()) +
                    tokens_of(*c, {"after", "the abandoned ones"});
  EXPECT_EQ(metric_value(m, "rwkv_tokens_total"), static_cast<double>(want)) << m;
  EXPECT_EQ(s.terminate(), 0);
}

TEST(ServerFlags, FormEncodedBodyOver8KiBIsExplained) {
  ServerProcess s({});
  ASSERT_TRUE(s.wait_ready());
  auto c = s.client();
  const std::string body = json{{"inputs", std::string(10000, 'a')}}.dump();
  const auto r = c->Post("/embed", body, "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_NE(r->body.find("Content-Type: application/json"), std::string::npos) << r->body;
  EXPECT_EQ(post(*c, "/embed", body).status, 200);  // the same body as JSON
  EXPECT_EQ(s.terminate(), 0);
}

TEST(ServerFlags, MaxBatchRequestsOneRunsRequestsAlone) {
  ServerProcess s({"--max-batch-requests", "1"});
  ASSERT_TRUE(s.wait_ready());
  const std::vector<std::string> texts = {"Hello world", "RWKV is an RNN", "Paris is in France.", "a"};
  auto c = s.client();
  std::vector<std::vector<float>> want;
  for (const auto& t : texts) want.push_back(post(*c, "/embed", json{{"inputs", t}}).body.at(0));
  constexpr int kThreads = 8, kRequests = 5;
  std::vector<int> bad(kThreads, 0);
  std::vector<std::jthread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      auto cl = s.client();
      for (int i = 0; i < kRequests; ++i) {
        const auto k = static_cast<std::size_t>(t + i) % texts.size();
        const auto r = post(*cl, "/embed", json{{"inputs", texts[k]}});
        if (r.status != 200 || r.body[0].get<std::vector<float>>() != want[k])
          ++bad[static_cast<std::size_t>(t)];
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad, std::vector<int>(kThreads, 0));
  const auto m = metrics(s);
  const double n = kThreads * kRequests + static_cast<double>(texts.size());
  EXPECT_EQ(metric_value(m, "rwkv_batch_size_count"), n) << m;
  EXPECT_EQ(metric_value(m, "rwkv_batch_size_bucket{le=\"1\"}"), n) << m;
  EXPECT_EQ(get(*c, "/info").body["limits"]["max_batch_requests"], 1);
  EXPECT_EQ(s.terminate(), 0);
}

}  // namespace
}  // namespace rwkv::test

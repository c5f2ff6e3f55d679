// Black-box tests of `rwkv serve --model LM`: OpenAI /v1/completions (plain and server-sent events) on the
// golden RWKV-4 model against its greedy continuation, stop strings, seeds, 422s naming the field, the LM's
// /ready, /info and /v1/models, a clean SIGTERM, and a client that leaves mid-stream.
#include <atomic>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "server_process.h"

namespace rwkv::test {
namespace {

using nlohmann::json;

// `rwkv serve` on the golden RWKV-4 language model (no reranker), port 0.
class LmServer : public ServerProcess {
 public:
  explicit LmServer(const std::vector<std::string>& extra = {}) : ServerProcess(ServeArgs(lm_args(extra))) {}

 private:
  static std::vector<std::string> lm_args(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"--port",      "0",
                                     "--threads",   "2",
                                     "--model",     golden("rwkv4/rwkv4-pile-random.bf16.pth").string(),
                                     "--tokenizer", (shared_dir() / "vocab" / "20B_tokenizer.json").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
};

// "`field`", as error messages quote field names.
std::string quoted(const char* field) {
  std::string s = "`";
  s += field;
  s += '`';
  return s;
}

struct Dragons {
  std::string prompt, text;
  std::size_t prompt_tokens = 0;
};
Dragons dragons() {
  std::ifstream in(golden("rwkv4/manifest.json"));
  const auto m = json::parse(in);
  const auto& it = m["greedy"]["items"]["dragons"];
  return {m["prompts"]["items"][it["prompt_row"].get<std::size_t>()]["text"], it["generated_text_hf_decode"],
          it["prompt_ids"].size()};
}

// A streamed completion of a million tokens; on_chunk() is called per received chunk and returns false to
// stop reading (the client leaves).
httplib::Request endless_stream(std::function<bool()> on_chunk) {
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.body = json{{"prompt", "Hello"}, {"max_tokens", 1000000}, {"stream", true}}.dump();
  req.set_header("Content-Type", "application/json");
  req.content_receiver = [on_chunk = std::move(on_chunk)](const char*, std::size_t, std::uint64_t,
                                                          std::uint64_t) { return on_chunk(); };
  return req;
}

// The `data:` payloads of a server-sent event stream, in order.
std::vector<std::string> sse_events(const std::string& body) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < body.size()) {
    const std::size_t end = body.find("\n\n", pos);
    if (end == std::string::npos) {
      out.push_back("<unterminated> " + body.substr(pos));
      break;
    }
    const std::string ev = body.substr(pos, end - pos);
    out.push_back(ev.rfind("data: ", 0) == 0 ? ev.substr(6) : "<no data prefix> " + ev);
    pos = end + 2;
  }
  return out;
}

TEST(CompletionsServer, PlainAndStreamedGreedyCompletionsMatchGolden) {
  LmServer s;
  ASSERT_TRUE(s.wait_ready());
  auto c = s.client();
  const auto d = dragons();
  const json req = {{"model", "rwkv4"}, {"prompt", d.prompt}, {"max_tokens", 24}, {"temperature", 0}};
  const auto r = post(*c, "/v1/completions", req);
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["object"], "text_completion");
  EXPECT_EQ(r.body["model"], "rwkv4-pile-random.bf16");
  ASSERT_EQ(r.body["choices"].size(), 1u);
  EXPECT_EQ(r.body["choices"][0]["text"], d.text);
  EXPECT_EQ(r.body["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(r.body["choices"][0]["index"], 0);
  EXPECT_EQ(r.body["usage"]["prompt_tokens"], d.prompt_tokens);
  EXPECT_EQ(r.body["usage"]["completion_tokens"], 24);
  EXPECT_EQ(r.body["usage"]["total_tokens"], d.prompt_tokens + 24);

  json sreq = req;
  sreq["stream"] = true;
  auto raw = c->Post("/v1/completions", sreq.dump(), "application/json");
  ASSERT_TRUE(raw);
  ASSERT_EQ(raw->status, 200);
  EXPECT_EQ(raw->get_header_value("Content-Type").rfind("text/event-stream", 0), 0u);
  const auto events = sse_events(raw->body);
  ASSERT_GE(events.size(), 3u) << raw->body;
  EXPECT_EQ(events.back(), "[DONE]");
  std::string joined;
  for (std::size_t i = 0; i + 2 < events.size(); ++i) {
    const auto j = json::parse(events[i]);
    EXPECT_EQ(j["object"], "text_completion");
    EXPECT_TRUE(j["choices"][0]["finish_reason"].is_null());
    EXPECT_FALSE(j["choices"][0]["text"].get<std::string>().empty());
    joined += j["choices"][0]["text"].get<std::string>();
  }
  const auto last = json::parse(events[events.size() - 2]);
  EXPECT_EQ(last["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(last["usage"]["completion_tokens"], 24);
  EXPECT_EQ(joined, d.text);
}

TEST(CompletionsServer, StopStringsSeedsAndDefaults) {
  LmServer s;
  ASSERT_TRUE(s.wait_ready());
  auto c = s.client();
  const auto d = dragons();
  const std::string stop = d.text.substr(5, 6);
  auto r = post(*c, "/v1/completions",
                json{{"prompt", d.prompt}, {"max_tokens", 24}, {"temperature", 0}, {"stop", {"zzz", stop}}});
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["choices"][0]["text"], d.text.substr(0, 5));
  EXPECT_EQ(r.body["choices"][0]["finish_reason"], "stop");
  // The same with streaming: the stop string never appears in a chunk.
  auto raw = c->Post(
      "/v1/completions",
      json{{"prompt", d.prompt}, {"max_tokens", 24}, {"temperature", 0}, {"stop", stop}, {"stream", true}}
          .dump(),
      "application/json");
  ASSERT_TRUE(raw);
  const auto events = sse_events(raw->body);
  std::string joined;
  for (std::size_t i = 0; i + 1 < events.size(); ++i)
    joined += json::parse(events[i])["choices"][0]["text"].get<std::string>();
  EXPECT_EQ(joined, d.text.substr(0, 5));
  EXPECT_EQ(json::parse(events[events.size() - 2])["choices"][0]["finish_reason"], "stop");
  // Seeded sampling is reproducible; the default is 16 tokens.
  const json sampled = {{"prompt", "Hello world"},  {"top_p", 0.9}, {"top_k", 50}, {"presence_penalty", 0.5},
                        {"frequency_penalty", 0.5}, {"seed", 7}};
  const auto a = post(*c, "/v1/completions", sampled), b = post(*c, "/v1/completions", sampled);
  ASSERT_EQ(a.status, 200) << a.text;
  EXPECT_EQ(a.body["choices"][0]["text"], b.body["choices"][0]["text"]);
  EXPECT_EQ(a.body["usage"]["completion_tokens"], 16);
  EXPECT_EQ(a.body["seed"], 7);
}

TEST(CompletionsServer, BadParametersAre422NamingTheField) {
  LmServer s;
  ASSERT_TRUE(s.wait_ready());
  auto c = s.client();
  const json ok = {{"prompt", "Hello"}, {"max_tokens", 2}};
  struct Case {
    const char* field;
    json value;
  };
  for (const auto& k : std::vector<Case>{{"temperature", -0.5},
                                         {"temperature", "hot"},
                                         {"top_p", 0},
                                         {"top_p", 1.01},
                                         {"top_k", -1},
                                         {"top_k", 2.5},
                                         {"max_tokens", -1},
                                         {"max_tokens", "many"},
                                         {"presence_penalty", "x"},
                                         {"frequency_penalty", json::array()},
                                         {"seed", -3},
                                         {"stop", 5},
                                         {"stream", "yes"},
                                         {"n", 2},
                                         {"prompt", 12},
                                         {"prompt", ""},
                                         {"model", 3}}) {
    json body = ok;
    body[k.field] = k.value;
    SCOPED_TRACE(body.dump());
    EXPECT_TRUE(IsError(post(*c, "/v1/completions", body), 422, quoted(k.field)));
  }
  json body = ok;
  body["stop"] = {"a", ""};
  EXPECT_TRUE(IsError(post(*c, "/v1/completions", body), 422, "`stop[1]`"));
  EXPECT_TRUE(IsError(post(*c, "/v1/completions", json{{"max_tokens", 2}}), 422, "`prompt`"));
  EXPECT_TRUE(IsError(post(*c, "/v1/completions", std::string("{not json")), 400));
  EXPECT_TRUE(IsError(post(*c, "/v1/completions", std::string("[1]")), 422));
  // Embedding routes are not served by a language model.
  EXPECT_TRUE(IsError(post(*c, "/v1/embeddings", json{{"input", "x"}}), 400, "/v1/completions"));
}

TEST(CompletionsServer, InfoModelsReadyAndCleanShutdownAfterAClientLeavesMidStream) {
  LmServer s;
  ASSERT_TRUE(s.wait_ready());
  auto c = s.client();
  const auto info = get(*c, "/info");
  ASSERT_EQ(info.status, 200);
  EXPECT_EQ(info.body["model_kind"], "x040-lm");
  EXPECT_EQ(info.body["tokenizer"], "20b");
  EXPECT_EQ(info.body["vocab_size"], 50277);
  const auto models = get(*c, "/v1/models");
  ASSERT_EQ(models.status, 200);
  EXPECT_EQ(models.body["data"][0]["id"], "rwkv4-pile-random.bf16");
  EXPECT_EQ(get(*c, "/health").status, 200);
  // A streaming client that stops reading after the first chunk: generation is cancelled, and the server
  // answers the next request at once instead of generating a million tokens.
  {
    auto leaver = s.client();
    int chunks = 0;
    leaver->send(endless_stream([&] { return ++chunks < 2; }));
    EXPECT_GE(chunks, 2);
  }
  const auto after = post(*c, "/v1/completions", json{{"prompt", "Hello"}, {"max_tokens", 2}});
  EXPECT_EQ(after.status, 200) << after.text;
  EXPECT_EQ(s.terminate(), 0);
}

// --max-concurrent-requests counts a completion until its stream ends: a second request meanwhile gets 429,
// and the slot comes back once the streaming client leaves.
TEST(CompletionsServer, ConcurrencyLimitHoldsForTheWholeStream) {
  LmServer s({"--max-concurrent-requests", "1"});
  ASSERT_TRUE(s.wait_ready());
  std::atomic<bool> streaming{false}, stop{false};
  std::thread streamer([&] {
    s.client()->send(endless_stream([&] {
      streaming = true;
      return !stop.load();
    }));
  });
  for (int i = 0; i < 600 && !streaming; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(streaming);
  auto c = s.client();
  const auto busy =
      c->Post("/v1/completions", json{{"prompt", "Hi"}, {"max_tokens", 1}}.dump(), "application/json");
  ASSERT_TRUE(busy);
  EXPECT_EQ(busy->status, 429) << busy->body;
  EXPECT_EQ(busy->get_header_value("Retry-After"), "1");
  EXPECT_NE(busy->body.find("--max-concurrent-requests"), std::string::npos) << busy->body;
  stop = true;
  streamer.join();
  int status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    const auto r = post(*c, "/v1/completions", json{{"prompt", "Hi"}, {"max_tokens", 1}});
    status = r.status;
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(status, 200);
}

TEST(CompletionsServer, RerankerWithALanguageModelIsAStartupError) {
  const auto r =
      run_serve_until_exit({"--port", "0", "--model", golden("rwkv4/rwkv4-pile-random.bf16.pth").string(),
                            "--reranker", golden("reranker-b.bf16.pth").string()},
                           std::chrono::seconds(30));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find("--reranker"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace rwkv::test

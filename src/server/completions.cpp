// OpenAI /v1/completions on a language model (see completions.h): request validation, the model thread,
// plain and server-sent-event replies.
#include "server/completions.h"

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <ctime>
#include <deque>
#include <filesystem>
#include <future>
#include <iostream>
#include <mutex>

#include <nlohmann/json.hpp>

#include "model/detect.h"
#include "pipeline/generator.h"
#include "rwkv/error.h"
#include "server/client_connection.h"
#include "server/completion_request.h"
#include "server/http_errors.h"
#include "tokenizer/tokenizer_select.h"
#include "util/strcat.h"

namespace rwkv::server {

namespace {

using nlohmann::json;

constexpr int kClientClosedRequest = 499;
constexpr auto kPoll = std::chrono::milliseconds(50);

std::string model_id(const std::string& path) {
  return std::filesystem::path(path).stem().string();
}

}  // namespace

// One request on its way through the model thread. Streaming requests also carry the events waiting to
// be written by the HTTP thread.
struct Completions::Job {
  std::vector<TokenId> prompt;
  GenerateOptions gen;
  bool stream = false;
  std::string id, model;
  std::time_t created = 0;
  std::atomic<bool> cancel{false};
  std::promise<GenerateResult> done;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> events;
  bool closed = false;

  json chunk(const std::string& text, const json& finish_reason) const {
    return {{"id", id},
            {"object", "text_completion"},
            {"created", created},
            {"model", model},
            {"choices",
             json::array(
                 {{{"text", text}, {"index", 0}, {"logprobs", nullptr}, {"finish_reason", finish_reason}}})}};
  }
  void send(const json& j) { send_raw(str("data: ", dump_json(j), "\n\n")); }
  void send_raw(std::string event) {
    {
      std::lock_guard lock(mu);
      events.push_back(std::move(event));
    }
    cv.notify_all();
  }
  void close() {
    {
      std::lock_guard lock(mu);
      closed = true;
    }
    cv.notify_all();
  }
};

namespace {

json usage(const GenerateResult& r) {
  return {{"prompt_tokens", r.prompt_tokens.size()},
          {"completion_tokens", r.tokens.size()},
          {"total_tokens", r.prompt_tokens.size() + r.tokens.size()}};
}
json timings(const GenerateResult& r) {
  return {{"prompt_seconds", r.prompt_seconds},
          {"decode_seconds", r.decode_seconds},
          {"decode_tokens_per_s", r.decode_seconds > 0 ? r.tokens.size() / r.decode_seconds : 0.0}};
}

}  // namespace

bool is_language_model(const std::string& path) {
  try {
    const auto kind = detect_model(Checkpoint::open(path)).kind;
    return kind == "x040-lm" || kind == "x070-lm";
  } catch (const std::exception&) {
    return false;
  }
}

Completions::Completions(const ServerOptions& o, Metrics& metrics, RequestLimiter& limiter)
    : o_(o), metrics_(metrics), limiter_(limiter), queue_(o.max_queue, metrics) {
  std::signal(SIGPIPE, SIG_IGN);  // a client that leaves mid-stream must not end the server
}

Completions::~Completions() {
  stop();
}

void Completions::start(std::function<void()> on_failure) {
  queue_.start([this] { load(); }, [this](std::vector<std::shared_ptr<Job>>& jobs) { run(*jobs[0]); },
               std::move(on_failure));
}

void Completions::stop() {
  queue_.stop();
}

void Completions::load() {
  if (o_.reranker)
    throw Error(
        str("--reranker: ", o_.model, " is a language model; rerankers pair with EmbeddingRWKV models"));
  const WeightPrecision precision = parse_precision(o_.precision, "--precision");
  kt_ = &kernels_for(select_isa());
  pool_ = std::make_unique<ThreadPool>(o_.threads);
  auto ckpt = std::make_shared<const Checkpoint>(Checkpoint::open(o_.model));
  model_kind_ = detect_model(*ckpt).kind;
  lm_ = load_language_model(ckpt, precision, o_.chunk_tokens);
  std::optional<std::filesystem::path> vocab;
  if (o_.vocab) vocab = *o_.vocab;
  tok_ =
      load_tokenizer(o_.tokenizer, model_hint_for_kind(model_kind_), std::filesystem::path(o_.model), vocab);
  // Warm-up: one step touches every weight page and the kernels' buffers.
  auto state = lm_->zero_state();
  std::vector<float> logits(static_cast<std::size_t>(lm_->vocab_size()));
  const TokenId first = 0;
  lm_->forward(std::span<const TokenId>(&first, 1), *state, logits.data(), *kt_, *pool_);
  if (o_.verbose)
    std::cerr << json{{"isa", isa_name(kt_->isa)},
                      {"threads", pool_->size()},
                      {"precision", o_.precision},
                      {"model_kind", model_kind_},
                      {"tokenizer", tok_->name()}}
                     .dump()
              << "\n";
}

void Completions::run(Job& job) {
  if (job.cancel.load()) {  // the client left while the request was queued
    metrics_.cancelled();
    job.done.set_exception(std::make_exception_ptr(Error("cancelled: the client went away")));
    job.close();
    return;
  }
  metrics_.batch(1, static_cast<long>(job.prompt.size()));
  GenerateOptions opts = job.gen;
  opts.cancelled = [&job] { return job.cancel.load(); };
  TextSink sink;
  if (job.stream)
    sink = [&job](std::string_view piece) {
      job.send(job.chunk(std::string(piece), nullptr));
      return !job.cancel.load();
    };
  try {
    Generator gen(*lm_, *tok_, *kt_, *pool_);
    GenerateResult r = gen.generate_tokens(job.prompt, opts, sink);
    if (r.finish_reason == "cancelled") metrics_.cancelled();
    if (job.stream) {
      json last = job.chunk("", r.finish_reason);
      last["usage"] = usage(r);
      job.send(last);
      job.send_raw("data: [DONE]\n\n");
    }
    job.close();
    job.done.set_value(std::move(r));
  } catch (const std::exception& e) {
    if (job.stream) {
      job.send(error_body(500, str("generation failed: ", e.what()), "internal_error"));
      job.send_raw("data: [DONE]\n\n");
    }
    job.close();
    job.done.set_exception(std::current_exception());
  }
}

void Completions::handle(const httplib::Request& req, httplib::Response& res) {
  if (!ready()) fail(503, "the model is still loading", "not_ready");
  // Held until the response is complete (the stream's provider keeps it).
  auto slot = std::make_shared<RequestLimiter::Slot>(limiter_.admit());
  const json body = parse_json_object(req.body);
  CompletionRequest cr;
  try {
    cr = parse_completion_request(body);
  } catch (const FieldError& e) {
    invalid(e.field, e.what);
  }
  auto job = std::make_shared<Job>();
  try {
    job->prompt = tok_->encode(cr.prompt);
  } catch (const Error& e) {
    invalid("prompt", e.what());
  }
  if (job->prompt.empty()) invalid("prompt", "has no tokens");
  if (o_.max_input_tokens > 0 && static_cast<long>(job->prompt.size()) > o_.max_input_tokens)
    invalid("prompt", str(job->prompt.size(), " tokens, more than the limit of ", o_.max_input_tokens,
                          " (--max-input-tokens)"));
  job->gen = std::move(cr.gen);
  job->stream = cr.stream;
  job->id = str("cmpl-", next_id_.fetch_add(1));
  job->model = model_id(o_.model);
  job->created = std::time(nullptr);
  auto result = job->done.get_future();
  auto client = std::make_shared<ClientConnection>(req);
  if (!queue_.push(job)) fail(429, "the request queue is full; retry later", "queue_full");

  if (job->stream) {
    res.status = 200;
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [job, client, slot](std::size_t, httplib::DataSink& sink) {
          std::unique_lock lock(job->mu);
          job->cv.wait_for(lock, kPoll, [&] { return !job->events.empty() || job->closed; });
          while (!job->events.empty()) {
            const std::string ev = std::move(job->events.front());
            job->events.pop_front();
            lock.unlock();
            if (!sink.write(ev.data(), ev.size())) {
              job->cancel = true;
              return false;
            }
            lock.lock();
          }
          if (job->closed) {
            sink.done();
            return true;
          }
          if (client->gone()) {
            job->cancel = true;
            return false;
          }
          return true;
        },
        [job](bool success) {
          if (!success) job->cancel = true;
        });
    return;
  }
  while (result.wait_for(kPoll) != std::future_status::ready)
    if (!job->cancel.load() && client->found() && client->gone()) job->cancel = true;
  if (job->cancel.load()) {
    res.status = kClientClosedRequest;
    return;
  }
  const GenerateResult r = result.get();
  send_json(
      res,
      {{"id", job->id},
       {"object", "text_completion"},
       {"created", job->created},
       {"model", job->model},
       {"choices",
        json::array(
            {{{"text", r.text}, {"index", 0}, {"logprobs", nullptr}, {"finish_reason", r.finish_reason}}})},
       {"usage", usage(r)},
       {"seed", r.seed},
       {"timings", timings(r)}});
}

void Completions::add_routes(httplib::Server& http) {
  auto wrap = [](auto f) {
    return [f](const httplib::Request& req, httplib::Response& res) {
      respond_or_report(res, [&] { f(req, res); });
    };
  };
  http.Post("/v1/completions",
            wrap([this](const httplib::Request& req, httplib::Response& res) { handle(req, res); }));
  http.Get("/ready", [this](const httplib::Request&, httplib::Response& res) {
    if (ready())
      send_json(res, {{"status", "ready"}});
    else
      send_json(res, {{"status", "loading"}}, 503);
  });
  http.Get("/info", wrap([this](const httplib::Request&, httplib::Response& res) {
             if (!ready()) fail(503, "the model is still loading", "not_ready");
             send_json(res, {{"model_id", model_id(o_.model)},
                             {"model_kind", model_kind_},
                             {"arch", lm_->arch()},
                             {"vocab_size", lm_->vocab_size()},
                             {"tokenizer", tok_->name()},
                             {"precision", o_.precision},
                             {"isa", isa_name(kt_->isa)},
                             {"threads", pool_->size()},
                             {"routes", {"/v1/completions"}},
                             {"limits",
                              {{"payload_limit", o_.payload_limit},
                               {"max_queue", o_.max_queue},
                               {"max_input_tokens", o_.max_input_tokens},
                               {"max_tokens", kMaxTokensLimit}}},
                             {"version", RWKV_VERSION}});
           }));
  http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    send_json(
        res,
        {{"object", "list"},
         {"data",
          json::array(
              {{{"id", model_id(o_.model)}, {"object", "model"}, {"created", 0}, {"owned_by", "rwkv"}}})}});
  });
  for (const char* path : {"/v1/embeddings", "/embed", "/rerank", "/v1/rerank", "/tokenize", "/detokenize"})
    http.Post(path, [path](const httplib::Request&, httplib::Response& res) {
      send_error(res, 400,
                 str(path,
                     " needs an EmbeddingRWKV model; this server runs a language model (use "
                     "/v1/completions)"),
                 "wrong_model_kind");
    });
}

}  // namespace rwkv::server

// HTTP front of `rwkv serve`: request parsing and validation, routes, errors, auth, metrics, shutdown.
// Handler threads tokenise and validate, then wait on the inference thread (server/inference.h).
#include "server/server.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <set>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "pipeline/preprocess.h"
#include "rwkv/error.h"
#include "server/api_keys.h"
#include "server/client_connection.h"
#include "server/completions.h"
#include "server/cors.h"
#include "server/http_errors.h"
#include "server/http_server.h"
#include "server/index_routes.h"
#include "server/inference.h"
#include "server/metrics.h"
#include "server/request_limiter.h"
#include "util/strcat.h"

namespace rwkv::server {

namespace {

using nlohmann::json;

// The client of the request went away before its work ran: nothing is sent (499 in the metrics).
struct ClientGone {};
constexpr int kClientClosedRequest = 499;
// How often a handler waiting for inference checks whether its client is still connected.
constexpr auto kDisconnectPoll = std::chrono::milliseconds(50);

// The request being handled on this thread (set by Server::handle), for disconnect checks while waiting.
thread_local const httplib::Request* current_request = nullptr;

// Every key of --api-key and --api-key-file.
std::vector<std::string> all_api_keys(const ServerOptions& o) {
  std::vector<std::string> keys = o.api_keys;
  for (const auto& k : keys)
    if (k.empty()) throw Error("--api-key: empty key");
  if (o.api_key_file) {
    auto more = read_api_key_file(*o.api_key_file);
    keys.insert(keys.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
  return keys;
}

json parse_body(const httplib::Request& req) {
  return parse_json_object(req.body);
}

bool get_bool(const json& body, const char* field, bool dflt) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return dflt;
  if (!it->is_boolean()) invalid(field, "must be a boolean");
  return it->get<bool>();
}

// A string or an array of strings; at least one, at most `max` items, none empty.
std::vector<std::string> get_texts(const json& body, const char* field, int max) {
  auto it = body.find(field);
  if (it == body.end()) invalid(field, "is required");
  std::vector<std::string> out;
  if (it->is_string()) {
    out.push_back(it->get<std::string>());
  } else if (it->is_array()) {
    for (std::size_t i = 0; i < it->size(); ++i) {
      if (!(*it)[i].is_string()) invalid(str(field, "[", i, "]"), "must be a string");
      out.push_back((*it)[i].get<std::string>());
    }
  } else {
    invalid(field, "must be a string or an array of strings");
  }
  if (out.empty()) invalid(field, "must not be empty");
  if (static_cast<long>(out.size()) > max)
    invalid(field, str(out.size(), " items, more than the limit of ", max, " (--max-client-batch-size)"));
  for (std::size_t i = 0; i < out.size(); ++i)
    if (out[i].empty()) invalid(it->is_array() ? str(field, "[", i, "]") : std::string(field), "empty text");
  return out;
}

std::vector<TokenId> get_ids(const json& arr, const std::string& field) {
  if (!arr.is_array()) invalid(field, "must be an array of token ids");
  std::vector<TokenId> ids;
  for (std::size_t i = 0; i < arr.size(); ++i) {
    const auto& v = arr[i];
    if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > kEos)
      invalid(str(field, "[", i, "]"), str("must be a token id in [0, ", kEos, "]"));
    ids.push_back(static_cast<TokenId>(v.get<long long>()));
  }
  return ids;
}

std::string base64(const std::vector<float>& v) {
  static const char* tab = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::vector<unsigned char> b(v.size() * 4);
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::uint32_t u;
    std::memcpy(&u, &v[i], 4);
    for (int k = 0; k < 4; ++k) b[i * 4 + k] = static_cast<unsigned char>(u >> (8 * k));  // little-endian
  }
  std::string out;
  for (std::size_t i = 0; i < b.size(); i += 3) {
    const std::uint32_t n = (std::uint32_t(b[i]) << 16) |
                            (i + 1 < b.size() ? std::uint32_t(b[i + 1]) << 8 : 0) |
                            (i + 2 < b.size() ? std::uint32_t(b[i + 2]) : 0);
    out += tab[(n >> 18) & 63];
    out += tab[(n >> 12) & 63];
    out += i + 1 < b.size() ? tab[(n >> 6) & 63] : '=';
    out += i + 2 < b.size() ? tab[n & 63] : '=';
  }
  return out;
}

std::string model_id(const std::string& path) {
  return std::filesystem::path(path).stem().string();
}

class Server {
 public:
  explicit Server(const ServerOptions& o)
      : o_(o),
        keys_(all_api_keys(o)),
        cors_(o.cors_allow_origins),
        limiter_(o.max_concurrent_requests, metrics_),
        inf_(o, metrics_) {
    if (is_language_model(o.model)) lm_ = std::make_unique<Completions>(o, metrics_, limiter_);
    if (o.index && lm_) throw Error("--index needs an embedding model, not a language model");
    if (o.index) index_ = std::make_unique<IndexRoutes>(o, inf_, limiter_);
  }
  int run();

 private:
  void routes();
  template <class F>
  httplib::Server::Handler handle(F f, bool needs_model = true);
  std::vector<TokenId> text_to_seq(const std::string& text, const std::string& field, bool truncate) const;
  Embeddings embed(std::vector<std::vector<TokenId>> seqs, Task task, bool normalize);
  std::vector<RerankResult> rerank(std::string query, std::vector<std::string> docs);
  // Submits work (submit() returns an optional Pending) and waits for its result. Work whose client has
  // disconnected is not submitted, or dropped from the queue if the client goes while it waits.
  template <class Submit>
  auto await(Submit submit);

  void v1_embeddings(const httplib::Request& req, httplib::Response& res);
  void tei_embed(const httplib::Request& req, httplib::Response& res);
  void do_rerank(const httplib::Request& req, httplib::Response& res);
  void tokenize(const httplib::Request& req, httplib::Response& res);
  void detokenize(const httplib::Request& req, httplib::Response& res);
  json info() const;
  std::string too_large_message(const httplib::Request& req) const;

  const ServerOptions& o_;
  const ApiKeys keys_;
  const Cors cors_;
  Metrics metrics_;
  RequestLimiter limiter_;  // --max-concurrent-requests, shared with the completion and index routes
  Inference inf_;
  std::unique_ptr<Completions> lm_;     // set when --model is a language model: /v1/completions instead
  std::unique_ptr<IndexRoutes> index_;  // set with --index: document search and management routes
  HttpServer http_;
};

template <class F>
httplib::Server::Handler Server::handle(F f, bool needs_model) {
  return [this, f, needs_model](const httplib::Request& req, httplib::Response& res) {
    current_request = &req;
    try {
      respond_or_report(res, [&] {
        if (needs_model && !inf_.ready()) fail(503, "the model is still loading", "not_ready");
        std::optional<RequestLimiter::Slot> slot;
        if (needs_model) slot.emplace(limiter_.admit());
        (this->*f)(req, res);
      });
    } catch (const ClientGone&) {
      res.status = kClientClosedRequest;
    }
    current_request = nullptr;
  };
}

std::vector<TokenId> Server::text_to_seq(const std::string& text, const std::string& field,
                                         bool truncate) const {
  auto ids = inf_.tokenizer().encode(text);
  if (o_.max_input_tokens > 0 && static_cast<long>(ids.size()) + 1 > o_.max_input_tokens) {
    if (!truncate)
      invalid(field, str(ids.size() + 1, " tokens, more than the limit of ", o_.max_input_tokens,
                         " (--max-input-tokens; set truncate to cut)"));
    ids.resize(static_cast<std::size_t>(o_.max_input_tokens - 1));
  }
  return policy_simple(ids);
}

template <class Submit>
auto Server::await(Submit submit) {
  std::optional<ClientConnection> client;
  if (current_request) client.emplace(*current_request);
  if (client && client->gone()) {
    metrics_.cancelled();
    throw ClientGone{};
  }
  auto pending = submit();
  if (!pending) fail(429, "the request queue is full; retry later", "queue_full");
  bool queued = client && client->found();
  while (queued && pending->result.wait_for(kDisconnectPoll) != std::future_status::ready) {
    if (client->gone()) {
      if (inf_.cancel(pending->id)) throw ClientGone{};
      queued = false;  // already taken for inference: let it finish
    }
  }
  return pending->result.get();
}

Embeddings Server::embed(std::vector<std::vector<TokenId>> seqs, Task task, bool normalize) {
  return await([&] { return inf_.submit_embed(std::move(seqs), task, normalize); });
}

std::vector<RerankResult> Server::rerank(std::string query, std::vector<std::string> docs) {
  if (!inf_.has_reranker())
    fail(400, "this server has no reranker (start it with --reranker)", "no_reranker");
  return await([&] { return inf_.submit_rerank(std::move(query), std::move(docs)); });
}

void Server::v1_embeddings(const httplib::Request& req, httplib::Response& res) {
  const json body = parse_body(req);
  auto it = body.find("input");
  if (it == body.end()) invalid("input", "is required");
  if (body.contains("model") && !body["model"].is_string()) invalid("model", "must be a string");
  std::string format = "float";
  if (body.contains("encoding_format")) {
    if (!body["encoding_format"].is_string()) invalid("encoding_format", "must be \"float\" or \"base64\"");
    format = body["encoding_format"].get<std::string>();
    if (format != "float" && format != "base64")
      invalid("encoding_format", "must be \"float\" or \"base64\"");
  }
  const int dim = inf_.embedder().dim();
  if (body.contains("dimensions") && !body["dimensions"].is_null()) {
    const auto& d = body["dimensions"];
    if (!d.is_number_integer() || d.get<long long>() != dim)
      invalid("dimensions", str("this model has ", dim, " dimensions and cannot produce others"));
  }
  std::vector<std::vector<TokenId>> seqs;
  auto add_tokens = [&](const json& arr, const std::string& field) {
    auto ids = get_ids(arr, field);
    if (ids.empty()) invalid(field, "empty token array");
    if (std::find(ids.begin(), ids.end(), kEos) == ids.end()) ids.push_back(kEos);
    if (o_.max_input_tokens > 0 && static_cast<long>(ids.size()) > o_.max_input_tokens)
      invalid(field, str(ids.size(), " tokens, more than the limit of ", o_.max_input_tokens));
    seqs.push_back(std::move(ids));
  };
  if (it->is_array() && !it->empty() && (*it)[0].is_number()) {
    add_tokens(*it, "input");  // one token array
  } else if (it->is_array() && !it->empty() && (*it)[0].is_array()) {
    if (static_cast<long>(it->size()) > o_.max_client_batch_size)
      invalid("input", str(it->size(), " items, more than the limit of ", o_.max_client_batch_size,
                           " (--max-client-batch-size)"));
    for (std::size_t i = 0; i < it->size(); ++i) add_tokens((*it)[i], str("input[", i, "]"));
  } else {
    const auto texts = get_texts(body, "input", o_.max_client_batch_size);
    for (std::size_t i = 0; i < texts.size(); ++i)
      seqs.push_back(text_to_seq(texts[i], it->is_array() ? str("input[", i, "]") : "input", false));
  }
  long tokens = 0;
  for (const auto& s : seqs) tokens += static_cast<long>(s.size());
  const auto vecs = embed(std::move(seqs), Task::Retr, true);
  json data = json::array();
  for (std::size_t i = 0; i < vecs.size(); ++i) {
    json e = {{"object", "embedding"}, {"index", i}};
    if (format == "base64")
      e["embedding"] = base64(vecs[i]);
    else
      e["embedding"] = vecs[i];
    data.push_back(std::move(e));
  }
  send_json(res, {{"object", "list"},
                  {"data", std::move(data)},
                  {"model", model_id(o_.model)},
                  {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}});
}

void Server::tei_embed(const httplib::Request& req, httplib::Response& res) {
  const json body = parse_body(req);
  const auto texts = get_texts(body, "inputs", o_.max_client_batch_size);
  const bool normalize = get_bool(body, "normalize", true);
  const bool truncate = get_bool(body, "truncate", false);
  Task task = Task::Retr;
  if (body.contains("prompt_name") && !body["prompt_name"].is_null()) {
    if (!body["prompt_name"].is_string()) invalid("prompt_name", "must be a string");
    try {
      task = parse_task(body["prompt_name"].get<std::string>());
    } catch (const Error& e) {
      invalid("prompt_name", e.what());
    }
  }
  std::vector<std::vector<TokenId>> seqs;
  for (std::size_t i = 0; i < texts.size(); ++i)
    seqs.push_back(text_to_seq(texts[i], str("inputs[", i, "]"), truncate));
  send_json(res, embed(std::move(seqs), task, normalize));
}

void Server::do_rerank(const httplib::Request& req, httplib::Response& res) {
  const json body = parse_body(req);
  if (index_ && body.contains("document_ids")) return index_->rerank_ids(body, res);  // cached states
  auto q = body.find("query");
  if (q == body.end()) invalid("query", "is required");
  if (!q->is_string() || q->get<std::string>().empty()) invalid("query", "must be a non-empty string");
  const bool raw = get_bool(body, "raw_scores", false);
  const bool tei = body.contains("texts");
  std::vector<std::string> docs;
  if (tei) {
    docs = get_texts(body, "texts", o_.max_client_batch_size);
  } else {
    auto d = body.find("documents");
    if (d == body.end()) invalid("documents", "is required (or `texts`, TEI style)");
    if (!d->is_array() || d->empty()) invalid("documents", "must be a non-empty array");
    if (static_cast<long>(d->size()) > o_.max_client_batch_size)
      invalid("documents", str(d->size(), " items, more than the limit of ", o_.max_client_batch_size,
                               " (--max-client-batch-size)"));
    for (std::size_t i = 0; i < d->size(); ++i) {
      const auto& v = (*d)[i];
      if (v.is_string())
        docs.push_back(v.get<std::string>());
      else if (v.is_object() && v.contains("text") && v["text"].is_string())
        docs.push_back(v["text"].get<std::string>());
      else
        invalid(str("documents[", i, "]"), "must be a string or {\"text\": string}");
      if (docs.back().empty()) invalid(str("documents[", i, "]"), "empty text");
    }
  }
  long top_n = 0;
  if (!tei && body.contains("top_n") && !body["top_n"].is_null()) {
    if (!body["top_n"].is_number_integer() || body["top_n"].get<long long>() < 1)
      invalid("top_n", "must be a positive integer");
    top_n = static_cast<long>(body["top_n"].get<long long>());
  }
  const bool return_text =
      tei ? get_bool(body, "return_text", false) : get_bool(body, "return_documents", false);
  auto results = rerank(q->get<std::string>(), docs);
  std::stable_sort(results.begin(), results.end(),
                   [](const auto& x, const auto& y) { return x.logit > y.logit; });
  if (top_n > 0 && static_cast<std::size_t>(top_n) < results.size())
    results.resize(static_cast<std::size_t>(top_n));
  json out = json::array();
  for (const auto& r : results) {
    const float s = raw ? r.logit : r.score;
    json e = {{"index", r.index}, {tei ? "score" : "relevance_score", s}};
    if (return_text) {
      if (tei)
        e["text"] = docs[r.index];
      else
        e["document"] = {{"text", docs[r.index]}};
    }
    out.push_back(std::move(e));
  }
  if (tei)
    send_json(res, out);
  else
    send_json(res, {{"results", std::move(out)}, {"model", model_id(o_.reranker.value_or(o_.model))}});
}

void Server::tokenize(const httplib::Request& req, httplib::Response& res) {
  const json body = parse_body(req);
  const auto texts = get_texts(body, "inputs", o_.max_client_batch_size);
  const bool special = get_bool(body, "add_special_tokens", true);
  json out = json::array();
  for (const auto& t : texts) {
    auto ids = inf_.tokenizer().encode(t);
    if (special) ids.push_back(kEos);
    out.push_back(ids);
  }
  send_json(res, out);
}

void Server::detokenize(const httplib::Request& req, httplib::Response& res) {
  const json body = parse_body(req);
  auto it = body.find("ids");
  if (it == body.end()) invalid("ids", "is required");
  DecodeOptions d;
  d.skip_special = get_bool(body, "skip_special_tokens", false);
  std::vector<std::vector<TokenId>> lists;
  if (it->is_array() && !it->empty() && (*it)[0].is_array()) {
    for (std::size_t i = 0; i < it->size(); ++i) lists.push_back(get_ids((*it)[i], str("ids[", i, "]")));
  } else {
    lists.push_back(get_ids(*it, "ids"));
  }
  json out = json::array();
  for (std::size_t i = 0; i < lists.size(); ++i) {
    try {
      out.push_back(inf_.tokenizer().decode_bytes(lists[i], d));
    } catch (const Error& e) {
      invalid(lists.size() > 1 ? str("ids[", i, "]") : "ids", e.what());
    }
  }
  send_json(res, out);
}

std::string Server::too_large_message(const httplib::Request& req) const {
  // cpp-httplib caps form-encoded bodies (curl -d's default type) at 8 KiB, whatever --payload-limit is.
  if (req.get_header_value("Content-Type").rfind("application/x-www-form-urlencoded", 0) == 0 &&
      req.get_header_value<std::uint64_t>("Content-Length") <= static_cast<std::uint64_t>(o_.payload_limit))
    return "bodies sent as application/x-www-form-urlencoded (curl -d's default) are limited to 8 KiB by the "
           "HTTP library: send Content-Type: application/json";
  return "the request body is larger than --payload-limit";
}

json Server::info() const {
  const auto& dims = inf_.embedder().model().dims();
  return {{"model_id", model_id(o_.model)},
          {"model_kind", inf_.model_kind()},
          {"reranker", o_.reranker ? json(model_id(*o_.reranker)) : json(nullptr)},
          {"dims", {{"n_embd", dims.n_embd}, {"n_layer", dims.n_layer}, {"n_head", dims.n_head}}},
          {"precision", o_.precision},
          {"isa", inf_.isa()},
          {"threads", inf_.threads()},
          {"limits",
           {{"max_batch_tokens", o_.max_batch_tokens},
            {"max_client_batch_size", o_.max_client_batch_size},
            {"payload_limit", o_.payload_limit},
            {"max_queue", o_.max_queue},
            {"max_batch_requests", o_.max_batch_requests},
            {"max_concurrent_requests", o_.max_concurrent_requests},
            {"max_input_tokens", o_.max_input_tokens}}},
          {"version", RWKV_VERSION}};
}

void Server::routes() {
  if (lm_) lm_->add_routes(http_);  // registered first, so its /ready, /info, /v1/models win
  if (index_) index_->add_routes(http_);
  http_.Post("/v1/embeddings", handle(&Server::v1_embeddings));
  http_.Post("/embed", handle(&Server::tei_embed));
  http_.Post("/rerank", handle(&Server::do_rerank));
  http_.Post("/v1/rerank", handle(&Server::do_rerank));
  http_.Post("/tokenize", handle(&Server::tokenize));
  http_.Post("/detokenize", handle(&Server::detokenize));
  http_.Get("/health", [](const httplib::Request&, httplib::Response& res) {
    send_json(res, {{"status", "ok"}});
  });
  http_.Get("/ready", [this](const httplib::Request&, httplib::Response& res) {
    if (inf_.ready())
      send_json(res, {{"status", "ready"}});
    else
      send_json(res, {{"status", "loading"}}, 503);
  });
  http_.Get("/info", [this](const httplib::Request&, httplib::Response& res) {
    if (!inf_.ready()) return send_error(res, 503, "the model is still loading", "not_ready");
    send_json(res, info());
  });
  http_.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    json data = json::array(
        {{{"id", model_id(o_.model)}, {"object", "model"}, {"created", 0}, {"owned_by", "rwkv"}}});
    if (o_.reranker)
      data.push_back(
          {{"id", model_id(*o_.reranker)}, {"object", "model"}, {"created", 0}, {"owned_by", "rwkv"}});
    send_json(res, {{"object", "list"}, {"data", data}});
  });
  http_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_.render(), "text/plain; version=0.0.4");
  });

  // CORS preflights (browsers send them without credentials), then API keys (Authorization: Bearer KEY)
  // on everything but the probes. Keys are never logged.
  http_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (cors_.enabled() && Cors::is_preflight(req)) {
      cors_.answer_preflight(req, res);
      return httplib::Server::HandlerResponse::Handled;
    }
    if (!keys_.enabled() || req.path == "/health" || req.path == "/ready")
      return httplib::Server::HandlerResponse::Unhandled;
    if (keys_.accepts(req.get_header_value("Authorization")))
      return httplib::Server::HandlerResponse::Unhandled;
    res.set_header("WWW-Authenticate", "Bearer");
    send_error(res, 401, "missing or invalid API key (Authorization: Bearer KEY)", "invalid_api_key");
    return httplib::Server::HandlerResponse::Handled;
  });
  // Statuses set by the library itself (404, 413, ...) get a JSON body too.
  http_.set_error_handler(
      httplib::Server::HandlerWithResponse([this](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        const int s = res.status;
        send_error(res, s,
                   s == 404   ? "no such route"
                   : s == 413 ? too_large_message(req)
                              : str("HTTP ", s),
                   s == 404   ? "not_found"
                   : s == 413 ? "payload_too_large"
                              : "http_error");
        return httplib::Server::HandlerResponse::Handled;
      }));
  // Every response, errors included, carries the CORS headers for an allowed Origin.
  http_.set_post_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (cors_.enabled()) cors_.add_headers(req, res);
  });
  http_.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    static const std::set<std::string> known = {
        "/v1/embeddings", "/embed", "/rerank", "/v1/rerank", "/tokenize", "/detokenize",
        "/health",        "/ready", "/info",   "/v1/models", "/metrics",  "/v1/completions"};
    metrics_.request(known.count(req.path) ? req.path : "other", res.status);
  });
}

int Server::run() {
  // Signals are taken by one thread (sigwait), so block them before any other thread starts.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  routes();
  http_.set_payload_max_length(static_cast<std::size_t>(o_.payload_limit));
  // Replies leave in more than one write (headers, body, chunks); with Nagle's algorithm the second waits
  // for the client's delayed ACK, up to 40 ms on Linux, on every request of a kept-alive connection.
  http_.set_tcp_nodelay(true);
  const int n_http = o_.http_threads > 0 ? o_.http_threads : o_.max_concurrent_requests + 8;
  http_.new_task_queue = [n_http] { return new httplib::ThreadPool(static_cast<std::size_t>(n_http)); };
  int port = o_.port;
  if (port == 0) {
    port = http_.bind_to_any_port(o_.host);
    if (port < 0) throw Error(str("cannot listen on ", o_.host));
  } else if (!http_.bind_to_port(o_.host, port)) {
    throw Error(str("cannot listen on ", o_.host, ":", port));
  }
  if (!http_.widen_listen_backlog())
    throw Error(str("cannot listen on ", o_.host, ":", port, ": ", std::strerror(errno)));

  std::atomic<bool> fatal{false}, listen_done{false}, got_signal{false};
  std::thread signals([&] {
    int sig = 0;
    sigwait(&set, &sig);
    got_signal = true;
    while (!listen_done.load()) {  // stop() is a no-op until listen has started: retry
      http_.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  auto on_failure = [&] {
    fatal = true;
    kill(getpid(), SIGTERM);
  };
  if (lm_)
    lm_->start(on_failure);
  else
    inf_.start(on_failure);
  std::cout << json{{"listening", str(o_.host, ":", port)}}.dump() << std::endl;
  http_.listen_after_bind();  // returns after stop(); in-flight requests are finished by then
  listen_done = true;
  if (!got_signal) kill(getpid(), SIGTERM);  // listen failed on its own: release the signal thread
  signals.join();
  inf_.stop();
  if (lm_) lm_->stop();
  if (fatal) throw Error(lm_ ? lm_->failure() : inf_.failure());
  return 0;
}

}  // namespace

int run_server(const ServerOptions& o) {
  Server s(o);
  return s.run();
}

}  // namespace rwkv::server

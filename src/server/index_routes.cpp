// Document index routes of `rwkv serve --index DIR`.
#include "server/index_routes.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <optional>

#include "model/x070_model.h"
#include "rwkv/error.h"
#include "server/http_errors.h"
#include "util/strcat.h"

namespace rwkv::server {

namespace {

using nlohmann::json;

constexpr std::size_t kMaxCandidates = 1000;  // top_k and document_ids per request
constexpr double kSaveIntervalSeconds = 60;

json parse_body(const std::string& body) {
  return parse_json_object(body);
}

bool get_bool(const json& body, const char* field, bool dflt) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return dflt;
  if (!it->is_boolean()) invalid(field, "must be a boolean");
  return it->get<bool>();
}

std::size_t get_count(const json& body, const char* field, std::size_t dflt, std::size_t max) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return dflt;
  if (!it->is_number_integer() || it->get<long long>() < 1 ||
      it->get<long long>() > static_cast<long long>(max))
    invalid(field, str("must be an integer from 1 to ", max));
  return static_cast<std::size_t>(it->get<long long>());
}

std::string get_query(const json& body) {
  auto q = body.find("query");
  if (q == body.end()) invalid("query", "is required");
  if (!q->is_string() || q->get<std::string>().empty()) invalid("query", "must be a non-empty string");
  return q->get<std::string>();
}

std::vector<std::string> get_ids(const json& body, const char* field, std::size_t max) {
  auto it = body.find(field);
  if (it == body.end()) invalid(field, "is required");
  if (!it->is_array() || it->empty()) invalid(field, "must be a non-empty array of document ids");
  if (it->size() > max) invalid(field, str(it->size(), " ids, more than the limit of ", max));
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const auto& v = (*it)[i];
    if (v.is_string() && !v.get<std::string>().empty())
      ids.push_back(v.get<std::string>());
    else if (v.is_number_integer())
      ids.push_back(v.dump());
    else
      invalid(str(field, "[", i, "]"), "must be a non-empty string or an integer");
  }
  return ids;
}

json document_json(const json& meta) {
  json d = json::object();
  for (const char* k : {"title", "text", "metadata"})
    if (meta.contains(k)) d[k] = meta[k];
  return d;
}

}  // namespace

IndexRoutes::IndexRoutes(const ServerOptions& o, const Inference& inf, RequestLimiter& limiter)
    : o_(o), inf_(inf), limiter_(limiter) {
  if (!o.index) throw Error("index routes without --index");
  index_ = std::make_unique<index::DocumentIndex>(*o.index, index::DocumentIndex::Mode::Write,
                                                  [](const std::string& s) {
                                                    std::cerr << json{{"notice", s}}.dump() << "\n";
                                                  });
  if (!index_->has_header()) throw Error(str(*o.index, ": empty index (build it with rwkv index first)"));
  const index::IndexHeader& h = index_->header();
  // Identify the models without loading the embedding model a second time.
  index::IndexHeader current = h;
  const auto emb = Checkpoint::open(o.model);
  current.model_path = o.model;
  current.model_fingerprint = checkpoint_fingerprint(emb, "rwkv.");
  current.reranker_fingerprint = 0;
  if (o.reranker) {
    auto rr = std::make_shared<const Checkpoint>(Checkpoint::open(*o.reranker));
    current.reranker_path = *o.reranker;
    current.reranker_fingerprint = checkpoint_fingerprint(*rr, "reranker.");
    reranker_ = std::make_unique<StateReranker>(rr, h.dims);
  }
  std::optional<std::filesystem::path> flag, model = std::filesystem::path(o.model);
  if (o.vocab) flag = *o.vocab;
  tok_ = std::make_unique<WorldTokenizer>(WorldTokenizer::load(find_world_vocab(flag, model)));
  current.tokenizer_fingerprint = index::tokenizer_fingerprint(*tok_);
  index::check_compatible(h, current, *o.index);
  models_.reranker = reranker_.get();
  const WorldTokenizer* tok = tok_.get();
  models_.encode = [tok](std::string_view t) { return tok->encode(t); };
  last_save_ = std::chrono::steady_clock::now();
}

IndexRoutes::~IndexRoutes() {
  try {
    std::lock_guard lock(mu_);
    index_->save_ann();
  } catch (const std::exception& e) {
    std::cerr << json{{"error", str("saving the vector index: ", e.what())}}.dump() << "\n";
  }
}

const index::IndexModels& IndexRoutes::models() {
  if (!inf_.ready()) fail(503, "the model is still loading", "not_ready");
  models_.embedder = &inf_.embedder();
  // Created on first use, from a handler thread: its workers inherit the signal mask that leaves SIGTERM
  // to the server's signal thread (a pool made before Server::run would take the signal and end the
  // process without a clean shutdown).
  if (!pool_) pool_ = std::make_unique<ThreadPool>(o_.threads);
  return models_;
}

void IndexRoutes::maybe_save() {
  const auto now = std::chrono::steady_clock::now();
  if (std::chrono::duration<double>(now - last_save_).count() < kSaveIntervalSeconds) return;
  index_->save_ann();
  last_save_ = now;
}

template <class F>
httplib::Server::Handler IndexRoutes::handle(F f, bool runs_model) {
  return [this, f, runs_model](const httplib::Request& req, httplib::Response& res) {
    respond_or_report(res, [&] {
      std::optional<RequestLimiter::Slot> slot;
      if (runs_model) slot.emplace(limiter_.admit());  // counted while waiting for the index too
      std::lock_guard lock(mu_);
      (this->*f)(req, res);
    });
  };
}

void IndexRoutes::add_routes(httplib::Server& http) {
  http.Post("/v1/search", handle(&IndexRoutes::search, true));
  http.Post("/v1/documents", handle(&IndexRoutes::add_documents, true));
  http.Post("/v1/documents/delete", handle(&IndexRoutes::delete_documents, false));
  http.Delete(R"(/v1/documents/(.+))", handle(&IndexRoutes::delete_one, false));
  http.Get("/v1/index", handle(&IndexRoutes::info, false));
}

void IndexRoutes::search(const httplib::Request& req, httplib::Response& res) {
  const json body = parse_body(req.body);
  index::SearchOptions so;
  const std::string query = get_query(body);
  so.top_k = get_count(body, "top_k", 100, kMaxCandidates);
  so.top_n = get_count(body, "top_n", 10, kMaxCandidates);
  so.rerank = get_bool(body, "rerank", true);
  so.chunk_tokens = o_.chunk_tokens;
  const bool docs = get_bool(body, "return_documents", false);
  if (so.rerank && !reranker_)
    fail(400, "this server has no reranker (start it with --reranker, or set rerank=false)", "no_reranker");
  const auto& m = models();
  json out = json::array();
  for (const auto& h : index_->search(query, so, m, kernels_for(select_isa()), *pool_)) {
    json e = {
        {"id", h.id}, {"score", h.score.value_or(h.embedding_score)}, {"embedding_score", h.embedding_score}};
    if (h.logit) e["logit"] = *h.logit;
    if (docs) e["document"] = document_json(h.meta);
    out.push_back(std::move(e));
  }
  send_json(res, {{"object", "list"}, {"results", std::move(out)}});
}

void IndexRoutes::rerank_ids(const json& body, httplib::Response& res) {
  std::lock_guard lock(mu_);
  const std::string query = get_query(body);
  const auto ids = get_ids(body, "document_ids", kMaxCandidates);
  const std::size_t top_n = get_count(body, "top_n", ids.size(), kMaxCandidates);
  const bool raw = get_bool(body, "raw_scores", false), docs = get_bool(body, "return_documents", false);
  if (!reranker_) fail(400, "this server has no reranker (start it with --reranker)", "no_reranker");
  const auto& m = models();
  const auto known = index_->store().lookup(ids);
  std::string missing;
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (!known[i]) missing += str(missing.empty() ? "" : ", ", "'", ids[i], "'");
  if (!missing.empty()) fail(404, str("`document_ids`: not in the index: ", missing), "document_not_found");
  index::SearchOptions so;
  so.chunk_tokens = o_.chunk_tokens;
  auto hits = index_->rerank_ids(query, ids, so, m, kernels_for(select_isa()), *pool_);
  std::vector<std::size_t> order(hits.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return *hits[a].logit > *hits[b].logit; });
  if (order.size() > top_n) order.resize(top_n);
  json out = json::array();
  for (const std::size_t i : order) {
    json e = {{"index", i}, {"id", hits[i].id}, {"relevance_score", raw ? *hits[i].logit : *hits[i].score}};
    if (docs) e["document"] = document_json(hits[i].meta);
    out.push_back(std::move(e));
  }
  send_json(res, {{"results", std::move(out)},
                  {"model", std::filesystem::path(o_.reranker.value_or(o_.model)).stem().string()}});
}

void IndexRoutes::add_documents(const httplib::Request& req, httplib::Response& res) {
  const json body = parse_body(req.body);
  auto it = body.find("documents");
  if (it == body.end()) invalid("documents", "is required");
  if (!it->is_array() || it->empty()) invalid("documents", "must be a non-empty array");
  if (static_cast<long>(it->size()) > o_.max_client_batch_size)
    invalid("documents", str(it->size(), " items, more than the limit of ", o_.max_client_batch_size,
                             " (--max-client-batch-size)"));
  const bool update = get_bool(body, "update", false);
  std::vector<index::IndexDocument> docs;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const auto& v = (*it)[i];
    const std::string f = str("documents[", i, "]");
    if (!v.is_object()) invalid(f, "must be an object {\"id\", \"text\"[, \"title\"][, \"metadata\"]}");
    index::IndexDocument d;
    auto id = v.find("id");
    if (id != v.end() && id->is_string())
      d.id = id->get<std::string>();
    else if (id != v.end() && id->is_number_integer())
      d.id = id->dump();
    if (d.id.empty() || d.id.size() > 511) invalid(f + ".id", "must be a string of 1 to 511 bytes");
    auto text = v.find("text");
    if (text == v.end() || !text->is_string()) invalid(f + ".text", "must be a string");
    d.text = text->get<std::string>();
    if (auto t = v.find("title"); t != v.end() && !t->is_null()) {
      if (!t->is_string()) invalid(f + ".title", "must be a string");
      d.title = t->get<std::string>();
    }
    if (auto md = v.find("metadata"); md != v.end()) d.metadata = *md;
    if (d.body().empty()) invalid(f, "empty document");
    if (o_.max_input_tokens > 0 && static_cast<long>(tok_->encode(d.body()).size()) + 1 > o_.max_input_tokens)
      invalid(f, str("more tokens than the limit of ", o_.max_input_tokens, " (--max-input-tokens)"));
    docs.push_back(std::move(d));
  }
  if (!reranker_) fail(400, "adding documents needs the reranker (--reranker)", "no_reranker");
  const auto& m = models();
  const auto r = index_->add(docs, m, update, kernels_for(select_isa()), *pool_, o_.chunk_tokens);
  maybe_save();
  send_json(res, {{"added", r.added},
                  {"updated", r.updated},
                  {"skipped", r.skipped},
                  {"documents", index_->store().size()}});
}

void IndexRoutes::delete_ids(const std::vector<std::string>& ids, httplib::Response& res) {
  const auto removed = index_->remove(ids);
  maybe_save();
  std::vector<std::string> missing;
  for (const auto& id : ids)
    if (std::find(removed.begin(), removed.end(), id) == removed.end()) missing.push_back(id);
  send_json(res, {{"deleted", removed}, {"not_found", missing}, {"documents", index_->store().size()}});
}

void IndexRoutes::delete_documents(const httplib::Request& req, httplib::Response& res) {
  delete_ids(get_ids(parse_body(req.body), "ids", kMaxCandidates), res);
}

void IndexRoutes::delete_one(const httplib::Request& req, httplib::Response& res) {
  delete_ids({req.matches[1].str()}, res);
}

void IndexRoutes::info(const httplib::Request&, httplib::Response& res) {
  send_json(res, {{"header", index_->header().to_json()}, {"stats", index_->stats().to_json()}});
}

}  // namespace rwkv::server

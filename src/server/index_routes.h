// The document index routes of `rwkv serve --index DIR` (docs/server.md, "Document index"):
//   POST /v1/search                 query -> top-k by cosine -> reranked from cached states -> top-n
//   POST /v1/documents              add (or, with "update", re-index changed) documents
//   POST /v1/documents/delete       delete by id; also DELETE /v1/documents/{id}
//   GET  /v1/index                  header and statistics
//   POST /v1/rerank with "document_ids" instead of texts: offline rerank of stored documents.
// The index is opened for writing when the server starts (refused if it does not fit the models), index
// work is serialised by one mutex and runs on its own thread pool, reusing the inference thread's loaded
// embedding model. The vector index is saved at most once a minute after changes and at shutdown; a
// killed server loses nothing committed (the next start catches up from the store).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "index/doc_index.h"
#include "server/inference.h"
#include "server/request_limiter.h"
#include "server/server.h"

namespace rwkv::server {

class IndexRoutes {
 public:
  // Opens o.index and checks it against o.model, o.reranker and the vocab; throws rwkv::Error if it
  // cannot be opened or does not fit.
  IndexRoutes(const ServerOptions& o, const Inference& inf, RequestLimiter& limiter);
  ~IndexRoutes();  // saves the vector index if it changed

  void add_routes(httplib::Server& http);
  // POST /v1/rerank bodies with "document_ids" (server.cpp hands them over); answers the request.
  void rerank_ids(const nlohmann::json& body, httplib::Response& res);

 private:
  template <class F>
  httplib::Server::Handler handle(F f, bool runs_model);
  void search(const httplib::Request& req, httplib::Response& res);
  void add_documents(const httplib::Request& req, httplib::Response& res);
  void delete_documents(const httplib::Request& req, httplib::Response& res);
  void delete_one(const httplib::Request& req, httplib::Response& res);
  void info(const httplib::Request& req, httplib::Response& res);
  void delete_ids(const std::vector<std::string>& ids, httplib::Response& res);
  const index::IndexModels& models();  // binds the inference thread's embedder once it is ready
  void maybe_save();

  const ServerOptions& o_;
  const Inference& inf_;
  RequestLimiter& limiter_;
  std::mutex mu_;  // guards everything below
  std::unique_ptr<WorldTokenizer> tok_;
  std::unique_ptr<StateReranker> reranker_;
  index::IndexModels models_;
  std::unique_ptr<index::DocumentIndex> index_;
  std::unique_ptr<ThreadPool> pool_;  // made by models()
  std::chrono::steady_clock::time_point last_save_;
};

}  // namespace rwkv::server

// Language-model serving for `rwkv serve --model LM.pth`: OpenAI `POST /v1/completions` (plain JSON, or
// server-sent events with "stream": true), plus the LM's /ready, /info and /v1/models. One thread owns the
// model and runs the requests one at a time, in arrival order, from a bounded queue (--max-queue); a
// request whose client goes away is dropped from the queue, or stopped between two tokens.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include <httplib.h>

#include "kernels/dispatch.h"
#include "model/language_model.h"
#include "server/metrics.h"
#include "server/request_limiter.h"
#include "server/server.h"
#include "server/serving_queue.h"
#include "tokenizer/tokenizer.h"
#include "util/thread_pool.h"

namespace rwkv::server {

// True if `path` opens as a language-model checkpoint (RWKV-4 or RWKV-7 with an LM head). False for
// anything else, including a file that cannot be opened (the embedding server then reports why).
bool is_language_model(const std::string& path);

class Completions {
 public:
  Completions(const ServerOptions& o, Metrics& metrics, RequestLimiter& limiter);
  ~Completions();
  Completions(const Completions&) = delete;
  Completions& operator=(const Completions&) = delete;

  // Starts the model thread: loads the model and the tokenizer, runs one warm-up step, then serves the
  // queue. on_failure is called (from that thread) if loading fails; failure() then says why.
  void start(std::function<void()> on_failure);
  // Finishes the queued requests and joins the thread.
  void stop();
  bool ready() const { return queue_.ready(); }
  const std::string& failure() const { return queue_.failure(); }

  // POST /v1/completions and the LM's GET /ready, /info, /v1/models; the embedding and rerank routes answer
  // 400. Register these before the server's own routes: the first handler registered for a path wins.
  void add_routes(httplib::Server& http);

  struct Job;  // one request (completions.cpp)

 private:
  void load();
  void run(Job& job);
  void handle(const httplib::Request& req, httplib::Response& res);

  const ServerOptions& o_;
  Metrics& metrics_;
  RequestLimiter& limiter_;
  ServingQueue<std::shared_ptr<Job>> queue_;
  std::atomic<long> next_id_{1};
  std::string model_kind_;

  const KernelTable* kt_ = nullptr;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<LanguageModel> lm_;
  std::unique_ptr<Tokenizer> tok_;
};

}  // namespace rwkv::server

// The inference side of `rwkv serve`: one thread owns the model, the kernels and the thread pool, and
// serves a bounded FIFO queue. Consecutive embedding requests are packed into one ragged batch of at most
// max_batch_tokens tokens and max_batch_requests requests (results do not depend on the batch); rerank
// requests run one at a time. Queued work can be cancelled (its client went away).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/embedder.h"
#include "pipeline/rerank_pipeline.h"
#include "server/metrics.h"
#include "server/server.h"
#include "server/serving_queue.h"
#include "tokenizer/world_tokenizer.h"
#include "util/thread_pool.h"

namespace rwkv::server {

using Embeddings = std::vector<std::vector<float>>;

// A submitted work item: its result, and its id for cancel().
template <class T>
struct Pending {
  std::future<T> result;
  std::uint64_t id = 0;
};

class Inference {
 public:
  Inference(const ServerOptions& o, Metrics& metrics)
      : o_(o), metrics_(metrics), queue_(o.max_queue, metrics) {}
  ~Inference() { stop(); }

  // Starts the thread: loads the models and the vocab, runs one warm-up forward, then serves the queue.
  // on_failure is called (from that thread) if loading fails.
  void start(std::function<void()> on_failure);
  // Finishes the queued work and joins the thread.
  void stop();

  bool ready() const { return queue_.ready(); }
  const std::string& failure() const { return queue_.failure(); }  // after on_failure

  // Valid once ready().
  const WorldTokenizer& tokenizer() const { return *tok_; }
  const Embedder& embedder() const { return *embedder_; }
  bool has_reranker() const { return reranker_ != nullptr; }
  std::string isa() const;
  int threads() const;
  std::string model_kind() const { return model_kind_; }

  // nullopt when the queue is full (or the server is stopping).
  std::optional<Pending<Embeddings>> submit_embed(std::vector<std::vector<TokenId>> seqs, Task task,
                                                  bool normalize);
  std::optional<Pending<std::vector<RerankResult>>> submit_rerank(std::string query,
                                                                  std::vector<std::string> docs);
  // Drops the work item `id` if it is still queued (its client went away) and counts it in the metrics;
  // its future then reports a broken promise. False if it has already been taken for inference.
  bool cancel(std::uint64_t id);

 private:
  struct Job {
    bool is_embed = true;
    std::vector<std::vector<TokenId>> seqs;
    Task task = Task::Retr;
    bool normalize = true;
    long tokens = 0;
    std::promise<Embeddings> embed_done;
    std::string query;
    std::vector<std::string> docs;
    std::promise<std::vector<RerankResult>> rerank_done;
    std::uint64_t id = 0;
  };
  // The job's id, or nullopt when the queue is full or the server is stopping.
  std::optional<std::uint64_t> push(std::unique_ptr<Job> job);
  void load();
  void serve(std::vector<std::unique_ptr<Job>>& jobs);
  void run_embeds(std::vector<std::unique_ptr<Job>>& jobs);
  void run_rerank(Job& job);

  const ServerOptions& o_;
  Metrics& metrics_;
  ServingQueue<std::unique_ptr<Job>> queue_;
  std::atomic<std::uint64_t> next_id_{1};
  std::string model_kind_;

  const KernelTable* kt_ = nullptr;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<WorldTokenizer> tok_;
  std::unique_ptr<Embedder> embedder_;
  std::unique_ptr<StateReranker> reranker_;
  std::unique_ptr<RerankPipeline> rerank_;
};

}  // namespace rwkv::server

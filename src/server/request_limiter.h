// --max-concurrent-requests: every route that runs the model (embeddings, rerank, completions, index
// search and updates) holds a Slot while it is handled; a request over the limit gets 429 with
// Retry-After. The count is also the rwkv_requests_in_flight metric.
#pragma once

#include <atomic>

#include "server/metrics.h"

namespace rwkv::server {

class RequestLimiter {
 public:
  RequestLimiter(int max_concurrent, Metrics& metrics) : max_(max_concurrent), metrics_(metrics) {}

  class Slot {
   public:
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    Slot(Slot&& o) noexcept : owner_(o.owner_) { o.owner_ = nullptr; }
    Slot& operator=(Slot&&) = delete;
    ~Slot() {
      if (owner_) owner_->release();
    }

   private:
    friend class RequestLimiter;
    explicit Slot(RequestLimiter* owner) : owner_(owner) {}
    RequestLimiter* owner_;
  };

  // A slot for one request; throws HttpError 429 when max_concurrent requests hold one already.
  Slot admit();

 private:
  void release();

  const int max_;
  Metrics& metrics_;
  std::atomic<int> in_flight_{0};
};

}  // namespace rwkv::server

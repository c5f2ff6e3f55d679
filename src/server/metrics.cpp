// Prometheus text exposition of the server's metrics.
#include "server/metrics.h"

#include <sstream>

namespace rwkv::server {

namespace {
std::string num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}
}  // namespace

void Histogram::observe(double v) {
  for (std::size_t i = 0; i < bounds_.size(); ++i)
    if (v <= bounds_[i]) {
      ++counts_[i];
      break;
    }
  ++count_;
  sum_ += v;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& help) const {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  long cum = 0;
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    cum += counts_[i];
    out += name + "_bucket{le=\"" + num(bounds_[i]) + "\"} " + std::to_string(cum) + "\n";
  }
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(count_) + "\n";
  out += name + "_sum " + num(sum_) + "\n" + name + "_count " + std::to_string(count_) + "\n";
}

void Metrics::request(const std::string& route, int status) {
  std::lock_guard lock(mu_);
  ++requests_[{route, status}];
}
void Metrics::queue_size(long n) {
  std::lock_guard lock(mu_);
  queue_size_ = n;
}
void Metrics::batch(long requests, long tokens) {
  std::lock_guard lock(mu_);
  batch_size_.observe(static_cast<double>(requests));
  batch_tokens_.observe(static_cast<double>(tokens));
  tokens_total_ += tokens;
}
void Metrics::queue_seconds(double s) {
  std::lock_guard lock(mu_);
  queue_seconds_.observe(s);
}
void Metrics::inference_seconds(double s) {
  std::lock_guard lock(mu_);
  inference_seconds_.observe(s);
}
void Metrics::cancelled() {
  std::lock_guard lock(mu_);
  ++cancelled_total_;
}
void Metrics::in_flight_add(long delta) {
  std::lock_guard lock(mu_);
  in_flight_ += delta;
}

std::string Metrics::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  out +=
      "# HELP rwkv_requests_total HTTP requests by route and status.\n# TYPE rwkv_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    out += "rwkv_requests_total{route=\"" + key.first + "\",status=\"" + std::to_string(key.second) + "\"} " +
           std::to_string(n) + "\n";
  out +=
      "# HELP rwkv_queue_size Work items waiting for the inference thread.\n# TYPE rwkv_queue_size gauge\n";
  out += "rwkv_queue_size " + std::to_string(queue_size_) + "\n";
  out +=
      "# HELP rwkv_requests_in_flight Model requests being handled.\n# TYPE rwkv_requests_in_flight gauge\n";
  out += "rwkv_requests_in_flight " + std::to_string(in_flight_) + "\n";
  out +=
      "# HELP rwkv_cancelled_total Queued work items dropped because their client went away.\n"
      "# TYPE rwkv_cancelled_total counter\n";
  out += "rwkv_cancelled_total " + std::to_string(cancelled_total_) + "\n";
  out += "# HELP rwkv_tokens_total Tokens run through the model.\n# TYPE rwkv_tokens_total counter\n";
  out += "rwkv_tokens_total " + std::to_string(tokens_total_) + "\n";
  batch_size_.render(out, "rwkv_batch_size", "Requests per inference batch.");
  batch_tokens_.render(out, "rwkv_batch_tokens", "Tokens per inference batch.");
  queue_seconds_.render(out, "rwkv_queue_seconds", "Time a work item waited in the queue.");
  inference_seconds_.render(out, "rwkv_inference_seconds", "Time of one inference batch.");
  return out;
}

}  // namespace rwkv::server

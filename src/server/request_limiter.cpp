#include "server/request_limiter.h"

#include "server/http_errors.h"
#include "util/strcat.h"

namespace rwkv::server {

RequestLimiter::Slot RequestLimiter::admit() {
  const int n = in_flight_.fetch_add(1) + 1;
  metrics_.in_flight_add(1);
  Slot slot(this);  // released on every path, the 429 included
  if (n > max_)
    fail(429, str("too many concurrent requests (--max-concurrent-requests ", max_, "); retry later"),
         "too_many_requests");
  return slot;
}

void RequestLimiter::release() {
  in_flight_.fetch_sub(1);
  metrics_.in_flight_add(-1);
}

}  // namespace rwkv::server

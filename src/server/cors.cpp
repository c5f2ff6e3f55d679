// CORS headers and preflight answers for `rwkv serve`.
#include "server/cors.h"

#include <algorithm>

namespace rwkv::server {

bool Cors::allows(const std::string& origin) const {
  if (origin.empty()) return false;
  return std::any_of(origins_.begin(), origins_.end(),
                     [&](const std::string& o) { return o == "*" || o == origin; });
}

bool Cors::is_preflight(const httplib::Request& req) {
  return req.method == "OPTIONS" && req.has_header("Origin") &&
         req.has_header("Access-Control-Request-Method");
}

void Cors::add_headers(const httplib::Request& req, httplib::Response& res) const {
  const std::string origin = req.get_header_value("Origin");
  if (!allows(origin)) return;
  const bool any = std::find(origins_.begin(), origins_.end(), "*") != origins_.end();
  res.set_header("Access-Control-Allow-Origin", any ? "*" : origin);
  // The answer depends on Origin when a list of origins is configured: caches must key on it.
  if (!any) res.set_header("Vary", "Origin");
  res.set_header("Access-Control-Expose-Headers", "Retry-After");
}

void Cors::answer_preflight(const httplib::Request& req, httplib::Response& res) const {
  if (!allows(req.get_header_value("Origin"))) {
    res.status = 403;
    return;
  }
  res.status = 204;
  res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
  // Browsers list the headers they will send (SDKs add their own); allow those, or the ones the API reads.
  const std::string asked = req.get_header_value("Access-Control-Request-Headers");
  res.set_header("Access-Control-Allow-Headers", asked.empty() ? "Authorization, Content-Type" : asked);
  res.set_header("Access-Control-Max-Age", "600");
}

}  // namespace rwkv::server

// CORS for `rwkv serve` (--cors-allow-origin): which browser origins may call the API, the
// Access-Control-Allow-* headers on every response, and the answer to OPTIONS preflight requests.
#pragma once

#include <string>
#include <vector>

#include <httplib.h>

namespace rwkv::server {

class Cors {
 public:
  // `origins`: exact origins ("https://app.example:8443") or "*" for any. Empty: CORS is off.
  explicit Cors(std::vector<std::string> origins) : origins_(std::move(origins)) {}
  bool enabled() const { return !origins_.empty(); }

  // A CORS preflight: an OPTIONS request carrying Origin and Access-Control-Request-Method.
  static bool is_preflight(const httplib::Request& req);
  // Adds Access-Control-Allow-Origin (and Vary, Expose-Headers) when the request's Origin is allowed.
  void add_headers(const httplib::Request& req, httplib::Response& res) const;
  // Answers a preflight: 204 with the allowed methods and the requested headers if the origin is allowed,
  // else 403.
  void answer_preflight(const httplib::Request& req, httplib::Response& res) const;

 private:
  bool allows(const std::string& origin) const;
  std::vector<std::string> origins_;
};

}  // namespace rwkv::server

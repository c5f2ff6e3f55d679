// The error responses every route of `rwkv serve` shares: {"error": {"message", "type", "code"}} with an
// HTTP status, raised as HttpError from inside a handler and answered by respond_or_report.
#pragma once

#include <new>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "rwkv/error.h"

namespace rwkv::server {

struct HttpError {
  int status;
  std::string message, code;
};

[[noreturn]] void fail(int status, std::string message, std::string code = "invalid_request");
// 422 naming the request field at fault.
[[noreturn]] void invalid(const std::string& field, const std::string& what);

// JSON text with invalid UTF-8 replaced, so a response never fails to serialise.
std::string dump_json(const nlohmann::json& j);
void send_json(httplib::Response& res, const nlohmann::json& j, int status = 200);
nlohmann::json error_body(int status, const std::string& message, const std::string& code);
// Sends error_body; 429 and 503 also carry Retry-After.
void send_error(httplib::Response& res, int status, const std::string& message, const std::string& code);
// The request body as a JSON object (400 when it is not JSON, 422 when it is not an object).
nlohmann::json parse_json_object(const std::string& body);

// Runs f() and turns what it throws into the matching error response: HttpError as itself, rwkv::Error
// as 422, out of memory and anything else as 500. Exceptions of other types pass through.
template <class F>
void respond_or_report(httplib::Response& res, F&& f) {
  try {
    f();
  } catch (const HttpError& e) {
    send_error(res, e.status, e.message, e.code);
  } catch (const Error& e) {
    send_error(res, 422, e.what(), "validation_error");
  } catch (const std::bad_alloc&) {
    send_error(res, 500, "out of memory", "internal_error");
  } catch (const std::exception& e) {
    send_error(res, 500, std::string("internal error: ") + e.what(), "internal_error");
  }
}

}  // namespace rwkv::server

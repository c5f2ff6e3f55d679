#include "server/http_errors.h"

#include "util/strcat.h"

namespace rwkv::server {

void fail(int status, std::string message, std::string code) {
  throw HttpError{status, std::move(message), std::move(code)};
}

void invalid(const std::string& field, const std::string& what) {
  fail(422, str("`", field, "`: ", what), "validation_error");
}

std::string dump_json(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void send_json(httplib::Response& res, const nlohmann::json& j, int status) {
  res.status = status;
  res.set_content(dump_json(j), "application/json");
}

nlohmann::json error_body(int status, const std::string& message, const std::string& code) {
  std::string type;
  switch (status) {
    case 401:
      type = "authentication_error";
      break;
    case 429:
      type = "rate_limit_error";
      break;
    case 503:
      type = "service_unavailable";
      break;
    default:
      type = status >= 500 ? "server_error" : "invalid_request_error";
  }
  return {{"error", {{"message", message}, {"type", type}, {"code", code}}}};
}

void send_error(httplib::Response& res, int status, const std::string& message, const std::string& code) {
  if (status == 429 || status == 503) res.set_header("Retry-After", "1");
  send_json(res, error_body(status, message, code), status);
}

nlohmann::json parse_json_object(const std::string& body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) fail(400, "the request body is not valid JSON", "invalid_json");
  if (!j.is_object()) fail(422, "the request body must be a JSON object", "validation_error");
  return j;
}

}  // namespace rwkv::server

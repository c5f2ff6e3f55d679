// Validation of an OpenAI /v1/completions request body (see completion_request.h).
#include "server/completion_request.h"

#include <limits>

#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv::server {

namespace {

using nlohmann::json;

constexpr int kDefaultMaxTokens = 16;  // OpenAI's default
constexpr std::size_t kMaxStopStrings = 16;

[[noreturn]] void invalid(std::string field, std::string what) {
  throw FieldError{std::move(field), std::move(what)};
}

const json* field(const json& body, const char* name) {
  auto it = body.find(name);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}
double get_number(const json& body, const char* name, double dflt) {
  const json* v = field(body, name);
  if (!v) return dflt;
  if (!v->is_number()) invalid(name, "must be a number");
  return v->get<double>();
}
long long get_integer(const json& body, const char* name, long long dflt, long long lo, long long hi) {
  const json* v = field(body, name);
  if (!v) return dflt;
  if (!v->is_number_integer()) invalid(name, "must be an integer");
  if (v->is_number_unsigned() && v->get<unsigned long long>() > static_cast<unsigned long long>(hi))
    invalid(name, str("must be in [", lo, ", ", hi, "]"));
  const long long x = v->get<long long>();
  if (x < lo || x > hi) invalid(name, str("must be in [", lo, ", ", hi, "]"));
  return x;
}
bool get_bool(const json& body, const char* name, bool dflt) {
  const json* v = field(body, name);
  if (!v) return dflt;
  if (!v->is_boolean()) invalid(name, "must be a boolean");
  return v->get<bool>();
}

}  // namespace

CompletionRequest parse_completion_request(const nlohmann::json& body) {
  CompletionRequest r;
  if (body.contains("model") && !body["model"].is_null() && !body["model"].is_string())
    invalid("model", "must be a string");
  const json* p = field(body, "prompt");
  if (!p) invalid("prompt", "is required");
  if (p->is_array() && p->size() == 1 && (*p)[0].is_string()) p = &(*p)[0];  // ["text"] = "text"
  if (!p->is_string()) invalid("prompt", "must be a string");
  r.prompt = p->get<std::string>();
  if (r.prompt.empty()) invalid("prompt", "must not be empty");
  r.gen.max_tokens = static_cast<int>(get_integer(body, "max_tokens", kDefaultMaxTokens, 0, kMaxTokensLimit));
  auto& s = r.gen.sampling;
  s.temperature = get_number(body, "temperature", 1.0);
  if (!(s.temperature >= 0)) invalid("temperature", "must be >= 0 (0 = greedy)");
  s.top_p = get_number(body, "top_p", 1.0);
  if (!(s.top_p > 0 && s.top_p <= 1)) invalid("top_p", "must be in (0, 1]");
  s.top_k = static_cast<int>(get_integer(body, "top_k", 0, 0, std::numeric_limits<int>::max()));
  s.presence_penalty = get_number(body, "presence_penalty", 0.0);
  s.frequency_penalty = get_number(body, "frequency_penalty", 0.0);
  s.penalty_decay = get_number(body, "penalty_decay", s.penalty_decay);
  if (!(s.penalty_decay >= 0 && s.penalty_decay <= 1)) invalid("penalty_decay", "must be in [0, 1]");
  if (const json* seed = field(body, "seed")) {
    if (!seed->is_number_integer() || (!seed->is_number_unsigned() && seed->get<long long>() < 0))
      invalid("seed", "must be a non-negative integer");
    r.gen.seed = seed->get<std::uint64_t>();
  }
  if (const json* stop = field(body, "stop")) {
    if (stop->is_string()) {
      r.gen.stop.push_back(stop->get<std::string>());
    } else if (stop->is_array()) {
      for (std::size_t i = 0; i < stop->size(); ++i) {
        if (!(*stop)[i].is_string()) invalid(str("stop[", i, "]"), "must be a string");
        r.gen.stop.push_back((*stop)[i].get<std::string>());
      }
    } else {
      invalid("stop", "must be a string or an array of strings");
    }
    if (r.gen.stop.size() > kMaxStopStrings)
      invalid("stop", str(r.gen.stop.size(), " stop strings, more than the limit of ", kMaxStopStrings));
    for (std::size_t i = 0; i < r.gen.stop.size(); ++i)
      if (r.gen.stop[i].empty())
        invalid(stop->is_string() ? "stop" : str("stop[", i, "]"), "empty stop string");
  }
  r.stream = get_bool(body, "stream", false);
  r.gen.stop_at_end_of_text = !get_bool(body, "ignore_eos", false);
  if (get_integer(body, "n", 1, 1, 1) != 1) invalid("n", "only 1 is supported");
  if (get_integer(body, "best_of", 1, 1, 1) != 1) invalid("best_of", "only 1 is supported");
  if (get_bool(body, "echo", false)) invalid("echo", "is not supported");
  if (field(body, "logprobs")) invalid("logprobs", "is not supported");
  if (field(body, "suffix")) invalid("suffix", "is not supported");
  try {
    r.gen.validate();  // anything the checks above missed (non-finite values)
  } catch (const Error& e) {
    const std::string m = e.what();
    const auto colon = m.find(':');
    invalid(m.substr(0, colon), colon == std::string::npos ? m : m.substr(colon + 2));
  }
  return r;
}

}  // namespace rwkv::server

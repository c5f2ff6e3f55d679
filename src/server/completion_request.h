// The fields of an OpenAI `POST /v1/completions` request, checked and turned into generation options.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "pipeline/generator.h"

namespace rwkv::server {

inline constexpr int kMaxTokensLimit = 1 << 20;  // largest max_tokens accepted

struct CompletionRequest {
  std::string prompt;
  GenerateOptions gen;
  bool stream = false;
};

// A field with a bad value: `field` names it as the client wrote it (e.g. "stop[1]").
struct FieldError {
  std::string field, what;
};

// prompt (a non-empty string, or an array of one), max_tokens (default 16), temperature, top_p, top_k,
// presence_penalty, frequency_penalty, penalty_decay, seed, stop (string or up to 16 strings), stream,
// ignore_eos; n and best_of must be 1; echo, logprobs and suffix are rejected; model must be a string if
// given; other fields are ignored. Throws FieldError.
CompletionRequest parse_completion_request(const nlohmann::json& body);

}  // namespace rwkv::server

// Turning CLI inputs (positional texts or JSON-lines records) into token sequences for the embedding
// pipeline: {"text": "..."} is tokenised and passed through the preprocessing policy; {"tokens": [...]}
// is used exactly as given (no EOS added), so reference-style padded inputs can be reproduced.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/common.h"
#include "pipeline/preprocess.h"

namespace rwkv::cli {

struct TextOrTokens {
  std::string text;
  std::vector<TokenId> tokens;
  bool has_tokens = false;
  std::string where;  // "line 3 of docs.jsonl" / "argument 2", for error messages
};

std::vector<TextOrTokens> collect_inputs(const std::vector<std::string>& args, const std::string& input_file,
                                         const char* text_field = "text");

// Parses a {"tokens": [...]} array; throws naming `where` on non-integer or out-of-range values.
std::vector<TokenId> parse_token_array(const nlohmann::json& arr, const std::string& where);

}  // namespace rwkv::cli

// CLI input collection (see inputs.h).
#include "cli/inputs.h"

#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv::cli {

std::vector<TokenId> parse_token_array(const nlohmann::json& arr, const std::string& where) {
  if (!arr.is_array()) throw Error(str(where, ": \"tokens\" must be an array of integers"));
  std::vector<TokenId> ids;
  for (const auto& v : arr) {
    if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > 0x7fffffff)
      throw Error(str(where, ": \"tokens\" must hold non-negative integers, got ", v.dump()));
    ids.push_back(static_cast<TokenId>(v.get<long long>()));
  }
  return ids;
}

std::vector<TextOrTokens> collect_inputs(const std::vector<std::string>& args, const std::string& input_file,
                                         const char* text_field) {
  std::vector<TextOrTokens> out;
  for (std::size_t i = 0; i < args.size(); ++i) out.push_back({args[i], {}, false, str("argument ", i + 1)});
  if (!input_file.empty()) {
    for_each_json_line(input_file, [&](const std::string& where, const nlohmann::json& j) {
      TextOrTokens t;
      t.where = where;
      if (j.contains("tokens")) {
        t.tokens = parse_token_array(j["tokens"], where);
        t.has_tokens = true;
      } else if (j.contains(text_field) && j[text_field].is_string()) {
        t.text = j[text_field].get<std::string>();
      } else {
        throw Error(str(where, ": expected a string field \"", text_field, "\" or a \"tokens\" array"));
      }
      out.push_back(std::move(t));
    });
  }
  if (out.empty()) throw Error("no inputs: give texts as arguments or --input FILE.jsonl");
  return out;
}

}  // namespace rwkv::cli

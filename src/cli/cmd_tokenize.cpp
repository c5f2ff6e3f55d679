// `rwkv tokenize` and `rwkv detokenize`: token ids from text and back, with the RWKV World tokenizer
// (default) or the GPT-NeoX-20B tokenizer of RWKV-4 (--tokenizer 20b or a tokenizer.json), one JSON
// object per line on stdout. Input is a positional argument, raw stdin, or a JSONL file (--input, `-` =
// stdin).
#include <charconv>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "rwkv/error.h"
#include "tokenizer/tokenizer_select.h"
#include "tokenizer/world_tokenizer.h"
#include "util/strcat.h"

namespace rwkv::cli {
namespace {

// --tokenizer world|20b|PATH (default world) and --vocab (the World vocab file), shared by both commands.
struct TokenizerChoice {
  std::string vocab, tokenizer;
  CLI::Option* vocab_opt = nullptr;

  void add_options(CLI::App* cmd) {
    vocab_opt = cmd->add_option("--vocab", vocab,
                                "World vocab file rwkv_vocab_v20230424.txt. Default: $RWKV_VOCAB, else "
                                "${XDG_DATA_HOME:-~/.local/share}/rwkv/rwkv_vocab_v20230424.txt (get it with "
                                "scripts/fetch-vocab.sh)");
    cmd->add_option(
        "--tokenizer", tokenizer,
        "world (default; RWKV-5/6/7, EmbeddingRWKV), 20b (GPT-NeoX-20B BPE of the RWKV-4 Pile models; "
        "20B_tokenizer.json from $RWKV_TOKENIZER_20B, else ${XDG_DATA_HOME:-~/.local/share}/rwkv/, "
        "get it with scripts/fetch-vocab.sh), or a PATH: a .json HF tokenizer file or a .txt World "
        "vocab");
  }

  // --vocab only applies to the World tokenizer.
  std::unique_ptr<Tokenizer> load() const {
    std::optional<std::filesystem::path> flag;
    if (vocab_opt->count() > 0) {
      if (!tokenizer.empty() && tokenizer != "world")
        throw Error(
            str("--vocab is the World vocab file; it cannot be combined with --tokenizer ", tokenizer));
      flag = vocab;
    }
    return load_tokenizer(tokenizer, ModelHint::kNone, std::nullopt, flag);
  }
};

struct TokenizeArgs {
  TokenizerChoice choice;
  std::string input, text;
  bool add_eos = false;
  CLI::Option* input_opt = nullptr;
  CLI::Option* text_opt = nullptr;
};

struct DetokenizeArgs {
  TokenizerChoice choice;
  std::string input, ids, errors = "strict";
  bool skip_special = false;
  CLI::Option* input_opt = nullptr;
  CLI::Option* ids_opt = nullptr;
};

std::string read_all(std::istream& in) {
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void print_ids(const std::vector<TokenId>& ids) {
  std::string out = "{\"ids\":[";
  char buf[16];
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out.push_back(',');
    out.append(buf, std::to_chars(buf, buf + sizeof buf, ids[i]).ptr);
  }
  out += "]}\n";
  std::cout << out;
}

void run_tokenize(const TokenizeArgs& a) {
  if (a.input_opt->count() > 0 && a.text_opt->count() > 0)
    throw Error("tokenize: give TEXT or --input, not both");
  const std::unique_ptr<Tokenizer> tok = a.choice.load();
  if (a.add_eos && tok->name() != "world")
    throw Error("--add-eos appends the EmbeddingRWKV EOS (65535) and only applies to the World tokenizer");
  std::vector<TokenId> ids;
  auto emit = [&](std::string_view text) {
    ids = tok->encode(text);
    if (a.add_eos) ids.push_back(kEmbeddingEos);
    print_ids(ids);
  };
  if (a.input_opt->count() > 0) {
    for_each_json_line(a.input, [&](const std::string& where, const nlohmann::json& j) {
      if (!j.contains("text") || !j["text"].is_string())
        throw Error(to_valid_utf8(str(where, ": expected an object with a string field \"text\""), true));
      emit(j["text"].get_ref<const std::string&>());
    });
  } else if (a.text_opt->count() > 0) {
    emit(a.text);
  } else {
    emit(read_all(std::cin));
  }
}

// Ids from a parsed [1,2,3] or {"ids":[1,2,3]}. `where` prefixes error messages.
std::vector<TokenId> ids_from_json(const nlohmann::json& j, const std::string& where) {
  const nlohmann::json* arr = &j;
  if (j.is_object()) {
    if (!j.contains("ids")) throw Error(str(where, "expected an object with an array field \"ids\""));
    arr = &j["ids"];
  }
  if (!arr->is_array()) throw Error(str(where, "\"ids\" must be an array of integers"));
  std::vector<TokenId> ids;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const auto& v = (*arr)[i];
    if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<std::uint64_t>() > 0x7FFFFFFF) ||
        (!v.is_number_unsigned() && (v.get<std::int64_t>() < INT32_MIN || v.get<std::int64_t>() > INT32_MAX)))
      throw Error(str(where, "ids[", i, "] is not a 32-bit integer"));
    ids.push_back(static_cast<TokenId>(v.get<std::int64_t>()));
  }
  return ids;
}

// Reads ids from "1,2,3", "[1,2,3]" or {"ids":[1,2,3]}. `where` prefixes error messages.
std::vector<TokenId> parse_ids(const std::string& spec, const std::string& where) {
  std::vector<TokenId> ids;
  const auto first = spec.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return ids;
  if (spec[first] == '{' || spec[first] == '[') {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(spec);
    } catch (const nlohmann::json::exception& e) {
      throw Error(to_valid_utf8(str(where, "invalid JSON: ", e.what()), true));
    }
    return ids_from_json(j, where);
  }
  std::size_t pos = 0;
  for (std::size_t i = 0;; ++i) {
    std::size_t comma = spec.find(',', pos);
    if (comma == std::string::npos) comma = spec.size();
    std::string_view item(spec.data() + pos, comma - pos);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && std::string_view(" \t\r\n").find(item.back()) != std::string_view::npos)
      item.remove_suffix(1);
    TokenId id = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), id);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size())
      throw Error(
          to_valid_utf8(str(where, "id #", i + 1, " ('", item.substr(0, 20), "') is not an integer"), true));
    ids.push_back(id);
    if (comma == spec.size()) break;
    pos = comma + 1;
  }
  return ids;
}

void run_detokenize(const DetokenizeArgs& a) {
  if (a.input_opt->count() > 0 && a.ids_opt->count() > 0)
    throw Error("detokenize: give IDS or --input, not both");
  const bool replace = a.errors == "replace";
  const std::unique_ptr<Tokenizer> tok = a.choice.load();
  auto emit = [&](std::vector<TokenId> ids, const std::string& where) {
    if (a.skip_special) std::erase_if(ids, [&](TokenId id) { return tok->is_special(id); });
    std::string bytes;
    try {
      bytes = tok->decode_bytes(ids);
    } catch (const Error& e) {
      throw Error(str(where, e.what()));
    }
    nlohmann::ordered_json out;
    const std::size_t bad = find_invalid_utf8(bytes);
    if (bad == std::string::npos) {
      out["text"] = bytes;
    } else if (!replace) {
      throw Error(str(where, "decoded bytes are not valid UTF-8 at byte offset ", bad,
                      " (use --errors replace to get U+FFFD and the raw bytes as bytes_hex)"));
    } else {
      out["text"] = to_valid_utf8(bytes, true);
      std::string hex;
      for (char c : bytes) {
        hex.push_back("0123456789abcdef"[static_cast<unsigned char>(c) >> 4]);
        hex.push_back("0123456789abcdef"[static_cast<unsigned char>(c) & 15]);
      }
      out["bytes_hex"] = hex;
    }
    std::cout << out.dump() << "\n";
  };
  if (a.input_opt->count() > 0) {
    for_each_json_line(a.input, [&](const std::string& line_where, const nlohmann::json& j) {
      const std::string where = line_where + ": ";
      emit(ids_from_json(j, where), where);
    });
  } else {
    emit(parse_ids(a.ids_opt->count() > 0 ? a.ids : read_all(std::cin), ""), "");
  }
}

// Runs a command body; error messages may quote paths or input bytes, so make them valid UTF-8 before
// main turns them into JSON.
template <typename Fn>
void with_utf8_errors(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    if (find_invalid_utf8(e.what()) == std::string_view::npos) throw;
    throw Error(to_valid_utf8(e.what(), true));
  }
}

}  // namespace

void add_tokenize_commands(CLI::App& app) {
  auto targs = std::make_shared<TokenizeArgs>();
  CLI::App* tok = app.add_subcommand(
      "tokenize",
      "Encode text to token ids (RWKV World, or GPT-NeoX-20B with --tokenizer 20b); prints "
      "{\"ids\":[...]}");
  tok->footer(
      "World: TEXT is taken as raw bytes (no normalization). 20b: TEXT must be valid UTF-8; it is "
      "NFC-normalized and \"<|endoftext|>\" in it becomes id 0, as HF tokenizers does.\n"
      "Without TEXT or --input, all of stdin is one text.\n"
      "With --input, each line must be {\"text\": \"...\"}; one {\"ids\":[...]} line is printed per input "
      "line, in order.\n"
      "Use `--` before a TEXT that starts with '-'.\n");
  targs->choice.add_options(tok);
  tok->add_flag("--add-eos", targs->add_eos,
                "Append the EmbeddingRWKV EOS id 65535 to each id list (World tokenizer only)");
  targs->input_opt =
      tok->add_option("--input", targs->input, "JSONL file of {\"text\": \"...\"} lines ('-' reads stdin)");
  targs->text_opt = tok->add_option("text", targs->text, "Text to encode (bytes as given)");
  tok->callback([targs] { with_utf8_errors([&] { run_tokenize(*targs); }); });

  auto dargs = std::make_shared<DetokenizeArgs>();
  CLI::App* det = app.add_subcommand(
      "detokenize",
      "Decode token ids (RWKV World, or GPT-NeoX-20B with --tokenizer 20b) to text; prints "
      "{\"text\": \"...\"}");
  det->footer(
      "IDS is `1,2,3`, `[1,2,3]` or {\"ids\":[1,2,3]}. Without IDS or --input, all of stdin is read as IDS.\n"
      "Id 0 decodes to \"<|endoftext|>\" (both tokenizers; 20b: id 1 to \"<|padding|>\"); World id 65535 "
      "(EmbeddingRWKV EOS) is an error unless --skip-special.\n"
      "With --errors replace, output that is not valid UTF-8 gets U+FFFD in \"text\" plus the exact bytes "
      "in \"bytes_hex\".\n");
  dargs->choice.add_options(det);
  det->add_flag("--skip-special", dargs->skip_special,
                "Drop the special ids (World: 0 and 65535; 20b: 0 and 1) instead of decoding them");
  det->add_option(
         "--errors", dargs->errors,
         "strict (default): decoded bytes that are not valid UTF-8 are an error naming the byte offset; "
         "replace: use U+FFFD and add \"bytes_hex\"")
      ->check(CLI::IsMember({"strict", "replace"}));
  dargs->input_opt = det->add_option(
      "--input", dargs->input, "JSONL file of {\"ids\":[...]} lines ('-' reads stdin); one output line each");
  dargs->ids_opt = det->add_option("ids", dargs->ids, "Token ids: 1,2,3 or a JSON array or {\"ids\":[...]}");
  det->callback([dargs] { with_utf8_errors([&] { run_detokenize(*dargs); }); });
}

}  // namespace rwkv::cli

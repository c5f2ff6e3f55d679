// Fuzz target for the NeoX (GPT-NeoX-20B style) tokenizer, with a small built-in tokenizer.json (the 256
// byte tokens, a few dozen merges, added tokens with every flag). The first byte picks the mode:
//   0x00-0xEF  the rest is text: valid UTF-8 must encode, decode back to its NFC form, re-encode to the
//              same ids, and split (GPT-2 regex) into non-empty pieces that cover it; invalid UTF-8 must
//              be an rwkv::Error. A second tokenizer whose added tokens strip whitespace must not fail.
//   0xF0-0xFF  the rest is a tokenizer.json: loading either succeeds or throws rwkv::Error; a loaded
//              tokenizer must encode and decode a fixed text.
// abort() on any violation.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <utf8proc.h>
#include <nlohmann/json.hpp>

#include "rwkv/error.h"
#include "tokenizer/neox_byte_level.h"
#include "tokenizer/neox_pretokenizer.h"
#include "tokenizer/neox_tokenizer.h"
#include "tokenizer/world_utf8.h"

namespace {

using rwkv::TokenId;

std::string bl(const std::string& bytes) {
  return rwkv::neox::byte_level_encode(bytes);
}

nlohmann::json added(TokenId id, const std::string& content, bool special, bool normalized, bool single_word,
                     bool lstrip, bool rstrip) {
  return {{"id", id},
          {"content", content},
          {"special", special},
          {"normalized", normalized},
          {"single_word", single_word},
          {"lstrip", lstrip},
          {"rstrip", rstrip}};
}

// strip = true gives the added tokens lstrip/rstrip (text around them is absorbed, so no round trip).
std::string builtin_json(bool strip) {
  nlohmann::json vocab = nlohmann::json::object();
  for (int b = 0; b < 256; ++b) vocab[bl(std::string(1, static_cast<char>(b)))] = b;
  nlohmann::json merges = nlohmann::json::array();
  TokenId next = 256;
  const char* const pairs[][2] = {{"t", "h"},       {"th", "e"},       {" ", "the"},         {"i", "n"},
                                  {"in", "g"},      {" ", "a"},        {"e", "r"},           {"o", "n"},
                                  {" ", "t"},       {"a", "a"},        {"aa", "aa"},         {"1", "2"},
                                  {"12", "3"},      {"\n", "\n"},      {" ", " "},           {"'", "s"},
                                  {"\xc3", "\xa9"}, {"\xe6", "\x97"},  {"\xe6\x97", "\xa5"}, {"\xf0", "\x9f"},
                                  {"\xcc", "\x81"}, {" ", "\xc3\xa9"}, {"<", "|"},           {"|", ">"}};
  for (const auto& p : pairs) {
    merges.push_back(bl(p[0]) + " " + bl(p[1]));
    if (!vocab.contains(bl(std::string(p[0]) + p[1]))) vocab[bl(std::string(p[0]) + p[1])] = next++;
  }
  nlohmann::json tokens = nlohmann::json::array();
  tokens.push_back(added(next++, "<|endoftext|>", true, false, false, strip, strip));
  tokens.push_back(added(next++, "<|padding|>", true, false, false, false, strip));
  tokens.push_back(added(next++, "    ", false, true, false, false, false));
  tokens.push_back(added(next++, "  ", false, true, false, strip, false));
  tokens.push_back(added(next++, "<mask>", false, true, true, strip, strip));
  // Matched after NFC (so "n" + U+0303 + U+65E5 matches too). Its content has a character outside the
  // byte table, so it decodes to its own UTF-8; "\xc3\xa9t\xc3\xa9" would decode through the table to
  // invalid UTF-8, exactly as HF's ByteLevel decoder does.
  tokens.push_back(added(next++, "\xc3\xb1\xe6\x97\xa5", false, true, false, false, false));
  const nlohmann::json byte_level = {
      {"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}};
  const nlohmann::json j = {
      {"added_tokens", tokens},      {"normalizer", {{"type", "NFC"}}},
      {"pre_tokenizer", byte_level}, {"post_processor", byte_level},
      {"decoder", byte_level},       {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}}}};
  return j.dump();
}

std::string nfc(std::string_view s) {
  utf8proc_uint8_t* out = nullptr;
  const auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                              static_cast<utf8proc_ssize_t>(s.size()), &out,
                              static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) std::abort();
  std::string r(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
  std::free(out);
  return r;
}

void check_text(std::string_view x) {
  static const auto plain = rwkv::NeoxTokenizer::from_json(builtin_json(false), "builtin");
  static const auto strip = rwkv::NeoxTokenizer::from_json(builtin_json(true), "builtin-strip");
  const bool valid = rwkv::find_invalid_utf8(x) == std::string_view::npos;
  std::vector<TokenId> ids;
  try {
    ids = plain->encode(x);
  } catch (const rwkv::Error&) {
    if (valid) std::abort();
    return;
  }
  if (!valid) std::abort();
  const std::string decoded = plain->decode_bytes(ids);
  // The special tokens are cut out of the raw text before NFC, which then runs on each side separately;
  // that differs from NFC of the whole text when a mark composes with their '<' or '>' (U+0338), so
  // texts that contain one are only checked for stability.
  if (x.find("|>") == std::string_view::npos && decoded != nfc(x)) std::abort();
  if (plain->encode(decoded) != ids) std::abort();
  for (TokenId id : ids)
    if (id < 0 || static_cast<std::size_t>(id) >= plain->vocab_size()) std::abort();
  std::vector<std::string_view> pieces;
  rwkv::neox::split_gpt2(x, pieces);
  std::size_t covered = 0;
  for (std::string_view p : pieces) {
    if (p.empty() || p.data() != x.data() + covered) std::abort();
    covered += p.size();
  }
  if (covered != x.size()) std::abort();
  for (TokenId id : strip->encode(x))
    if (id < 0 || static_cast<std::size_t>(id) >= strip->vocab_size()) std::abort();
}

void check_json(std::string_view contents) {
  std::unique_ptr<rwkv::NeoxTokenizer> tok;
  try {
    tok = rwkv::NeoxTokenizer::from_json(contents, "fuzz.json");
  } catch (const rwkv::Error&) {
    return;
  }
  const std::vector<TokenId> ids = tok->encode("Hello  world <|endoftext|> e\xcc\x81 \xe6\x97\xa5 1234!");
  for (TokenId id : ids)
    if (id < 0 || static_cast<std::size_t>(id) >= tok->vocab_size()) std::abort();
  (void)tok->decode_bytes(ids);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] >= 0xF0) {
    check_json(rest);
  } else {
    check_text(rest);
  }
  return 0;
}

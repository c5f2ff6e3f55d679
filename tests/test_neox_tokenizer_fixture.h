// A small byte-level BPE tokenizer.json for NeoX tokenizer tests: the 256 byte tokens (id = byte value),
// a few merges that build "hello", " world", " the", "aaaa" and "a1", and added tokens. Tests edit the
// JSON to make variants and malformed files.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/neox_byte_level.h"
#include "tokenizer/tokenizer.h"

namespace rwkv::test {

// The byte-level text of raw bytes ("Ġworld" for " world").
inline std::string bl(const std::string& bytes) {
  return neox::byte_level_encode(bytes);
}

struct SmallBpe {
  nlohmann::json json;
  // Id of a merged token, by its raw bytes.
  TokenId id(const std::string& bytes) const { return json["model"]["vocab"][bl(bytes)].get<TokenId>(); }
};

inline SmallBpe small_bpe() {
  nlohmann::json vocab = nlohmann::json::object();
  for (int b = 0; b < 256; ++b) vocab[bl(std::string(1, static_cast<char>(b)))] = b;
  nlohmann::json merges = nlohmann::json::array();
  TokenId next = 256;
  // Each merge: left bytes, right bytes; the merged token gets the next id.
  const std::vector<std::pair<std::string, std::string>> pairs{
      {"h", "e"},    {"l", "l"},     {"he", "ll"}, {"hell", "o"}, {" ", "w"},       {" w", "o"}, {"r", "l"},
      {" wo", "rl"}, {" worl", "d"}, {" ", "t"},   {" t", "h"},   {" th", "e"},     {"a", "a"},  {"aa", "aa"},
      {"a", "1"},    {"<", "m"},     {"<m", ">"},  {"e", "l"},    {"\xc3", "\xa9"}, {"x", "y"},  {"xy", "z"}};
  for (const auto& [l, r] : pairs) {
    merges.push_back(bl(l) + " " + bl(r));
    if (!vocab.contains(bl(l + r))) vocab[bl(l + r)] = next++;
  }
  vocab[bl("hel")] = next++;  // in the vocab but not reachable by merges (see ignore_merges)
  nlohmann::json added = nlohmann::json::array();
  auto add = [&](const std::string& content, bool special, bool normalized) {
    added.push_back({{"id", next++},
                     {"content", content},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", normalized},
                     {"special", special}});
  };
  add("<|endoftext|>", true, false);
  add("   ", false, true);  // three spaces
  add("  ", false, true);   // two spaces
  nlohmann::json j = {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", added},
      {"normalizer", {{"type", "NFC"}}},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}}},
      {"post_processor", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}}},
      {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}}},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", nullptr},
        {"continuing_subword_prefix", nullptr},
        {"end_of_word_suffix", nullptr},
        {"fuse_unk", false},
        {"vocab", vocab},
        {"merges", merges}}}};
  return SmallBpe{j};
}

// Appends an added token to the fixture's added_tokens with the next free id; returns that id.
inline TokenId add_token(SmallBpe& f, const std::string& content, bool special, bool normalized,
                         bool single_word = false, bool lstrip = false, bool rstrip = false) {
  TokenId next = 0;
  for (const auto& [k, v] : f.json["model"]["vocab"].items()) next = std::max(next, v.get<TokenId>() + 1);
  for (const auto& t : f.json["added_tokens"]) next = std::max(next, t["id"].get<TokenId>() + 1);
  f.json["added_tokens"].push_back({{"id", next},
                                    {"content", content},
                                    {"single_word", single_word},
                                    {"lstrip", lstrip},
                                    {"rstrip", rstrip},
                                    {"normalized", normalized},
                                    {"special", special}});
  return next;
}

}  // namespace rwkv::test

// NeoxTokenizer: building the id tables from a parsed tokenizer.json, encoding and decoding (see
// neox_tokenizer.h).
#include "tokenizer/neox_tokenizer.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <unordered_map>

#include "rwkv/error.h"
#include "tokenizer/neox_byte_level.h"
#include "tokenizer/neox_pretokenizer.h"
#include "tokenizer/neox_unicode.h"
#include "tokenizer/world_utf8.h"
#include "util/strcat.h"

namespace rwkv {
namespace {

std::string shown(std::string_view s) {
  return str("\"", s.substr(0, 40), s.size() > 40 ? "...\"" : "\"");
}

}  // namespace

std::unique_ptr<NeoxTokenizer> NeoxTokenizer::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(str("cannot open tokenizer file ", file.string()));
  std::string contents((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error(str("cannot read tokenizer file ", file.string()));
  return from_json(contents, file.string());
}

std::unique_ptr<NeoxTokenizer> NeoxTokenizer::from_json(std::string_view contents, const std::string& name) {
  return std::unique_ptr<NeoxTokenizer>(
      new NeoxTokenizer(neox::parse_neox_tokenizer_json(contents, name), name));
}

NeoxTokenizer::NeoxTokenizer(neox::NeoxConfig config, const std::string& name)
    : nfc_(config.nfc), add_prefix_space_(config.add_prefix_space), use_regex_(config.use_regex) {
  build_vocab(config, name);
}

void NeoxTokenizer::build_vocab(const neox::NeoxConfig& config, const std::string& name) {
  const auto fail = [&name](const std::string& field, const std::string& problem) {
    throw Error(str("tokenizer file ", name, ": field '", field, "' ", problem));
  };
  // Every id's bytes; added tokens override model tokens with the same id, as in HF's id_to_token.
  std::size_t size = 0;
  for (const auto& [text, id] : config.vocab) size = std::max(size, static_cast<std::size_t>(id) + 1);
  for (const auto& t : config.added_tokens) size = std::max(size, static_cast<std::size_t>(t.id) + 1);
  // Ids are dense in real files; a sparse id far beyond the entries would only allocate a huge table.
  const std::size_t entries = config.vocab.size() + config.added_tokens.size();
  if (size > 2 * entries + 1024)
    fail("model.vocab", str("or added_tokens use id ", size - 1, " with only ", entries,
                            " tokens; ids must be (nearly) contiguous from 0"));
  std::vector<std::string> bytes(size);
  flags_.assign(size, 0);
  std::unordered_map<std::string_view, TokenId> by_text;
  by_text.reserve(config.vocab.size());
  for (const auto& [text, id] : config.vocab) {
    if (flags_[id] & kPresent)
      fail("model.vocab", str("gives id ", id, " to both ", shown(bytes[id]), " and ", shown(text)));
    flags_[id] = kPresent;
    bytes[id] = text;  // converted to bytes below, once the text index is built
    by_text.emplace(text, id);
  }

  neox::BpeTables tables;
  tables.ignore_merges = config.ignore_merges;
  tables.fuse_unk = config.fuse_unk;
  if (!config.unk_token.empty()) {
    const auto it = by_text.find(config.unk_token);
    if (it == by_text.end()) fail("model.unk_token", str(shown(config.unk_token), " is not in model.vocab"));
    tables.unk = it->second;
  }
  for (int b = 0; b < 256; ++b) {
    const auto it = by_text.find(neox::byte_level_encode(std::string(1, static_cast<char>(b))));
    tables.byte_ids[b] = it == by_text.end() ? -1 : it->second;
  }
  tables.merges.reserve(config.merges.size());
  for (std::size_t i = 0; i < config.merges.size(); ++i) {
    const auto& [left, right] = config.merges[i];
    const auto l = by_text.find(left), r = by_text.find(right), m = by_text.find(left + right);
    const std::string field = str("model.merges[", i, "]");
    if (l == by_text.end()) fail(field, str("uses ", shown(left), ", which is not in model.vocab"));
    if (r == by_text.end()) fail(field, str("uses ", shown(right), ", which is not in model.vocab"));
    if (m == by_text.end()) fail(field, str("makes ", shown(left + right), ", which is not in model.vocab"));
    tables.merges.push_back({l->second, r->second, m->second});
  }
  for (auto& b : bytes) b = neox::byte_level_decode(b);
  if (config.ignore_merges) {
    for (const auto& [text, id] : config.vocab) tables.words.emplace(bytes[id], id);
  }
  bpe_ = std::make_unique<neox::BpeModel>(std::move(tables));

  for (const neox::AddedToken& t : config.added_tokens) {
    bytes[t.id] = neox::byte_level_decode(t.content);
    flags_[t.id] = kPresent | (t.special ? kSpecial : 0);
    if (!t.normalized) {
      raw_added_.add(t.content, t);
    } else {
      std::string pattern;
      if (nfc_) {
        neox::append_nfc(t.content, pattern);
      } else {
        pattern = t.content;
      }
      normalized_added_.add(pattern, t);
    }
  }

  offsets_.reserve(size + 1);
  for (const std::string& b : bytes) {
    offsets_.push_back(static_cast<std::uint32_t>(blob_.size()));
    blob_ += b;
  }
  offsets_.push_back(static_cast<std::uint32_t>(blob_.size()));
}

std::vector<TokenId> NeoxTokenizer::encode(std::string_view utf8) const {
  std::vector<TokenId> out;
  encode(utf8, out);
  return out;
}

void NeoxTokenizer::encode(std::string_view utf8, std::vector<TokenId>& out) const {
  if (const std::size_t bad = find_invalid_utf8(utf8); bad != std::string_view::npos)
    throw Error(str("20B tokenizer: the text is not valid UTF-8 (byte offset ", bad, ")"));
  if (utf8.empty()) return;
  out.reserve(out.size() + utf8.size() / 4);
  std::vector<neox::TextSplit> splits;
  raw_added_.split(utf8, splits);
  std::string normalized;
  for (const neox::TextSplit& s : splits) {
    if (s.id >= 0) {
      out.push_back(s.id);
      continue;
    }
    const std::string_view segment = utf8.substr(s.begin, s.end - s.begin);
    if (!nfc_ || std::all_of(segment.begin(), segment.end(), [](char c) { return (c & 0x80) == 0; })) {
      encode_normalized(segment, out);
      continue;
    }
    normalized.clear();
    neox::append_nfc(segment, normalized);
    encode_normalized(normalized, out);
  }
}

void NeoxTokenizer::encode_normalized(std::string_view text, std::vector<TokenId>& out) const {
  if (normalized_added_.empty()) {
    encode_words(text, out);
    return;
  }
  std::vector<neox::TextSplit> splits;
  normalized_added_.split(text, splits);
  for (const neox::TextSplit& s : splits) {
    if (s.id >= 0) {
      out.push_back(s.id);
    } else {
      encode_words(text.substr(s.begin, s.end - s.begin), out);
    }
  }
}

void NeoxTokenizer::encode_words(std::string_view text, std::vector<TokenId>& out) const {
  std::string prefixed;
  if (add_prefix_space_ && text[0] != ' ') {
    prefixed.reserve(text.size() + 1);
    prefixed.push_back(' ');
    prefixed.append(text);
    text = prefixed;
  }
  if (!use_regex_) {
    bpe_->encode_word(text, out);
    return;
  }
  thread_local std::vector<std::string_view> pieces;
  pieces.clear();
  neox::split_gpt2(text, pieces);
  for (std::string_view piece : pieces) bpe_->encode_word(piece, out);
}

std::string NeoxTokenizer::decode_bytes(std::span<const TokenId> ids) const {
  std::string out;
  out.reserve(ids.size() * 4);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const TokenId id = ids[i];
    if (id < 0 || static_cast<std::size_t>(id) >= flags_.size() || !(flags_[id] & kPresent))
      throw Error(str("cannot decode token id ", id, " at position ", i,
                      ": not in the 20B vocab (valid ids: 0..", flags_.size() - 1, ")"));
    out.append(blob_, offsets_[id], offsets_[id + 1] - offsets_[id]);
  }
  return out;
}

bool NeoxTokenizer::is_special(TokenId id) const {
  return id >= 0 && static_cast<std::size_t>(id) < flags_.size() && (flags_[id] & kSpecial);
}

}  // namespace rwkv

// WorldTokenizer: loading (parse + trie build), encoding and decoding. See world_tokenizer.h for the
// rules on special ids.
#include "tokenizer/world_tokenizer.h"

#include <fstream>
#include <iterator>

#include "rwkv/error.h"
#include "tokenizer/world_vocab_parser.h"
#include "util/strcat.h"

namespace rwkv {
namespace {

constexpr std::string_view kEndOfTextBytes = "<|endoftext|>";

}  // namespace

WorldTokenizer WorldTokenizer::load(const std::filesystem::path& vocab_file) {
  std::ifstream in(vocab_file, std::ios::binary);
  if (!in) throw Error(str("cannot open vocab file ", vocab_file.string()));
  std::string contents((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error(str("cannot read vocab file ", vocab_file.string()));
  return from_string(contents, vocab_file.string());
}

WorldTokenizer WorldTokenizer::from_string(std::string_view contents, const std::string& name) {
  world::ParsedVocab vocab = world::parse_world_vocab(contents, name);
  WorldTokenizer tok;
  tok.offsets_.reserve(vocab.tokens.size() + 1);
  for (const std::string& t : vocab.tokens) {
    tok.offsets_.push_back(static_cast<std::uint32_t>(tok.blob_.size()));
    tok.blob_ += t;
    tok.max_token_length_ = std::max(tok.max_token_length_, t.size());
  }
  tok.offsets_.push_back(static_cast<std::uint32_t>(tok.blob_.size()));
  tok.trie_.build(vocab.tokens);
  return tok;
}

void WorldTokenizer::encode(std::string_view bytes, std::vector<TokenId>& out) const {
  trie_.encode(bytes, out);
}

std::vector<TokenId> WorldTokenizer::encode(std::string_view bytes) const {
  std::vector<TokenId> out;
  trie_.encode(bytes, out);
  return out;
}

std::size_t WorldTokenizer::vocab_size() const {
  return offsets_.size() - 2;
}

std::string_view WorldTokenizer::token_bytes(TokenId id) const {
  if (id == kEndOfText) return kEndOfTextBytes;
  if (id > 0 && static_cast<std::size_t>(id) <= vocab_size())
    return std::string_view(blob_).substr(offsets_[id], offsets_[id + 1] - offsets_[id]);
  if (id == kEmbeddingEos)
    throw Error(str("token id 65535 (the EmbeddingRWKV EOS) has no text; skip special ids to drop it"));
  throw Error(str("token id ", id, " is not in the vocab (valid ids: 0..", vocab_size(), ", and 65535)"));
}

std::string WorldTokenizer::decode_bytes(std::span<const TokenId> ids) const {
  return decode_bytes(ids, {});
}

std::string WorldTokenizer::decode_bytes(std::span<const TokenId> ids, const DecodeOptions& options) const {
  std::string out;
  out.reserve(ids.size() * 4);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const TokenId id = ids[i];
    if (id > 0 && static_cast<std::size_t>(id) <= vocab_size()) {
      out.append(blob_, offsets_[id], offsets_[id + 1] - offsets_[id]);
      continue;
    }
    if (options.skip_special && (id == kEndOfText || id == kEmbeddingEos)) continue;
    if (id == kEndOfText) {
      out += kEndOfTextBytes;
    } else if (id == kEmbeddingEos) {
      throw Error(str("cannot decode token id 65535 (the EmbeddingRWKV EOS, which has no text) at position ",
                      i, "; skip special ids to drop it"));
    } else {
      throw Error(str("cannot decode token id ", id, " at position ", i, ": not in the vocab (valid ids: 0..",
                      vocab_size(), ", and 65535 when skipping special ids)"));
    }
  }
  return out;
}

}  // namespace rwkv

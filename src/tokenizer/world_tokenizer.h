// WorldTokenizer: the RWKV World tokenizer (rwkv_vocab_v20230424.txt): greedy longest match over UTF-8
// bytes. Immutable after construction; encode/decode are thread-safe.
//
// Special ids: 0 is <|endoftext|> and decodes to those 13 bytes (as EmbeddingRWKV does); 65535 is the
// EmbeddingRWKV EOS and has no bytes. Neither is produced by encode. decode_bytes throws rwkv::Error for
// 65535 unless DecodeOptions::skip_special is set (which also drops id 0), and always throws for ids that
// are neither special nor in the vocab file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/world_trie.h"
#include "tokenizer/world_utf8.h"

namespace rwkv {

using TokenId = std::int32_t;
inline constexpr TokenId kEndOfText = 0;         // "<|endoftext|>", not in the vocab file
inline constexpr TokenId kEmbeddingEos = 65535;  // EmbeddingRWKV EOS, not in the vocab file

struct DecodeOptions {
  bool skip_special = false;  // drop ids 0 and 65535 instead of decoding 0 / rejecting 65535
};

class WorldTokenizer {
 public:
  // Parses a vocab file; throws rwkv::Error naming the file and line on malformed content.
  static WorldTokenizer load(const std::filesystem::path& vocab_file);
  static WorldTokenizer from_string(std::string_view contents, const std::string& name);

  // Appends the ids of `bytes` (any bytes, valid UTF-8 or not) to `out`.
  void encode(std::string_view bytes, std::vector<TokenId>& out) const;
  std::vector<TokenId> encode(std::string_view bytes) const;

  // Concatenated bytes of the ids (may be invalid UTF-8). Throws rwkv::Error for ids with no bytes.
  std::string decode_bytes(std::span<const TokenId> ids) const;
  std::string decode_bytes(std::span<const TokenId> ids, const DecodeOptions& options) const;

  // The bytes of one id (0 gives "<|endoftext|>"); throws rwkv::Error for ids with no bytes.
  std::string_view token_bytes(TokenId id) const;

  std::size_t vocab_size() const;                                     // number of entries in the file
  std::size_t max_token_length() const { return max_token_length_; }  // longest token, in bytes

 private:
  WorldTokenizer() = default;

  std::string blob_;                    // all token bytes, concatenated in id order
  std::vector<std::uint32_t> offsets_;  // token id's bytes are blob_[offsets_[id], offsets_[id + 1])
  std::size_t max_token_length_ = 0;
  world::DoubleArrayTrie trie_;
};

// Finds the World vocab: explicit flag, then $RWKV_VOCAB, then a file named rwkv_vocab_v20230424.txt
// next to the model, then the per-user data dir ($XDG_DATA_HOME or ~/.local/share)/rwkv/. Throws an
// rwkv::Error that says how to get the file (scripts/fetch-vocab.sh) when none is found.
std::filesystem::path find_world_vocab(const std::optional<std::filesystem::path>& flag,
                                       const std::optional<std::filesystem::path>& model_path);

}  // namespace rwkv

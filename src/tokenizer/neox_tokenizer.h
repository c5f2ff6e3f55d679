// NeoxTokenizer: the GPT-NeoX-20B tokenizer of the RWKV-4 Pile models (20B_tokenizer.json), or any HF
// `tokenizers` file of the same shape: byte-level BPE with optional NFC and added tokens. Encoding is
// exactly HF's: added tokens with normalized=false are cut out of the raw text; each remaining stretch is
// NFC-normalised and the normalized=true added tokens are cut out of it; the text between is split with
// the GPT-2 regex, each piece's bytes run through BPE. Decoding concatenates each id's bytes.
// Immutable after loading; encode/decode are thread-safe (the BPE word cache is synchronised).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/neox_added_tokens.h"
#include "tokenizer/neox_bpe.h"
#include "tokenizer/neox_tokenizer_json.h"
#include "tokenizer/tokenizer.h"

namespace rwkv {

class NeoxTokenizer final : public Tokenizer {
 public:
  // Reads a tokenizer.json; throws rwkv::Error naming the file and the field on malformed or unsupported
  // content.
  static std::unique_ptr<NeoxTokenizer> load(const std::filesystem::path& file);
  static std::unique_ptr<NeoxTokenizer> from_json(std::string_view contents, const std::string& name);

  std::string name() const override { return "20b"; }
  std::size_t vocab_size() const override { return offsets_.size() - 1; }
  std::vector<TokenId> encode(std::string_view utf8) const override;
  // Appends the ids of `utf8` to `out`.
  void encode(std::string_view utf8, std::vector<TokenId>& out) const;
  std::string decode_bytes(std::span<const TokenId> ids) const override;
  bool is_special(TokenId id) const override;

 private:
  NeoxTokenizer(neox::NeoxConfig config, const std::string& name);
  void build_vocab(const neox::NeoxConfig& config, const std::string& name);
  void encode_normalized(std::string_view text, std::vector<TokenId>& out) const;
  void encode_words(std::string_view text, std::vector<TokenId>& out) const;

  bool nfc_, add_prefix_space_, use_regex_;
  neox::AddedTokenMatcher raw_added_;         // normalized=false: matched in the raw text
  neox::AddedTokenMatcher normalized_added_;  // normalized=true: matched after NFC
  std::unique_ptr<neox::BpeModel> bpe_;
  std::string blob_;                    // every id's bytes, concatenated in id order
  std::vector<std::uint32_t> offsets_;  // id's bytes are blob_[offsets_[id], offsets_[id + 1])
  std::vector<std::uint8_t> flags_;     // per id: kPresent, kSpecial
  static constexpr std::uint8_t kPresent = 1, kSpecial = 2;
};

}  // namespace rwkv

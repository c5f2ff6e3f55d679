// Reading a HF `tokenizers` tokenizer.json for the NeoX tokenizer: the parts a byte-level BPE needs,
// checked field by field. Anything the engine does not implement (another model type, normaliser,
// pre-tokenizer, decoder or post-processor, BPE dropout, subword prefixes) is rejected with an
// rwkv::Error naming the field, rather than silently tokenizing differently from HF.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/neox_added_tokens.h"
#include "tokenizer/tokenizer.h"

namespace rwkv::neox {

struct NeoxConfig {
  bool nfc = false;               // normalizer: {"type": "NFC"} (else null)
  bool add_prefix_space = false;  // pre_tokenizer ByteLevel options
  bool use_regex = true;
  bool ignore_merges = false;  // model.ignore_merges
  std::string unk_token;       // model.unk_token ("" when null)
  bool fuse_unk = false;       // model.fuse_unk
  std::vector<AddedToken> added_tokens;
  std::vector<std::pair<std::string, TokenId>> vocab;       // model.vocab: token text -> id
  std::vector<std::pair<std::string, std::string>> merges;  // model.merges, in rank order
};

// Parses the file contents; `name` (usually the path) prefixes every error message.
NeoxConfig parse_neox_tokenizer_json(std::string_view contents, const std::string& name);

}  // namespace rwkv::neox

// Choosing and loading a tokenizer: by name ("world", "20b"), by file path, or from the model's kind
// (RWKV-4 Pile models use the GPT-NeoX-20B tokenizer, RWKV-5/6/7 the World tokenizer).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tokenizer/tokenizer.h"
#include "tokenizer/world_tokenizer.h"

namespace rwkv {

// What the model says about its tokenizer when the user did not pick one.
enum class ModelHint {
  kNone,   // no model (e.g. `rwkv tokenize`): "" means the World tokenizer
  kRwkv4,  // RWKV-4 (x040): "" means 20b
  kRwkv7,  // RWKV-5/6/7 (x070): "" means world
};

// The hint for a detect_model() kind: "x040-*" -> kRwkv4, "x070-*" -> kRwkv7, anything else kNone.
ModelHint model_hint_for_kind(std::string_view kind);

// spec: "world", "20b", "" (pick from `hint`), or a PATH: a .json file is loaded as a HF tokenizer.json
// (NeoX BPE), a .txt file as a World vocab. A path that does not exist is an error (not a fallback).
// "world" finds its vocab with find_world_vocab(world_vocab_flag, model_path); "20b" finds
// 20B_tokenizer.json with find_neox_tokenizer(std::nullopt, model_path). Throws rwkv::Error for an
// unknown spec, a file that is not found (listing the places searched) or a malformed file.
std::unique_ptr<Tokenizer> load_tokenizer(
    const std::string& spec, ModelHint hint,
    const std::optional<std::filesystem::path>& model_path = std::nullopt,
    const std::optional<std::filesystem::path>& world_vocab_flag = std::nullopt);

// Finds 20B_tokenizer.json: `flag` (an explicit path), then $RWKV_TOKENIZER_20B, then a file named
// 20B_tokenizer.json next to the model, then ${XDG_DATA_HOME:-~/.local/share}/rwkv/ (where
// scripts/fetch-vocab.sh puts it). Throws an rwkv::Error listing the places searched and how to get the
// file when none is found.
std::filesystem::path find_neox_tokenizer(const std::optional<std::filesystem::path>& flag,
                                          const std::optional<std::filesystem::path>& model_path);

// The Tokenizer interface over an already loaded World tokenizer (name "world", vocab_size 65530,
// special ids 0 and 65535).
std::unique_ptr<Tokenizer> make_world_tokenizer(WorldTokenizer world);

}  // namespace rwkv

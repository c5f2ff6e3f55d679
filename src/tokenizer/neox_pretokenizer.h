// The GPT-2 split used by HF's ByteLevel pre-tokenizer, as a hand-written matcher (no regex engine):
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// The alternatives are tried in order at each position, as a backtracking regex engine does; together
// they match every character, so the pieces cover the text without gaps.
#pragma once

#include <string_view>
#include <vector>

namespace rwkv::neox {

// Appends the pieces of `text` (valid UTF-8) to `pieces`, in order; they concatenate back to `text`.
void split_gpt2(std::string_view text, std::vector<std::string_view>& pieces);

}  // namespace rwkv::neox

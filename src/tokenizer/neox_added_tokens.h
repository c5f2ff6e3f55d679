// Added tokens of a HF tokenizer.json ("<|endoftext|>", the 20B space runs, ...): found in the text before
// the pre-tokenizer runs, leftmost-longest, with HF's single_word / lstrip / rstrip rules. HF keeps two
// such sets: tokens with normalized=false are matched in the raw text, the others in the normalised text.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace rwkv::neox {

struct AddedToken {
  TokenId id = 0;
  std::string content;
  bool single_word = false;  // only where it is not part of a longer word (\w on neither side)
  bool lstrip = false;       // also takes the whitespace before it
  bool rstrip = false;       // also takes the whitespace after it
  bool normalized = true;    // matched in the normalised text (else in the raw text)
  bool special = false;      // a control token (is_special), not text
};

// A stretch of the text: an added token (id >= 0) or text for the next stage (id == -1).
struct TextSplit {
  std::size_t begin, end;
  TokenId id;
};

class AddedTokenMatcher {
 public:
  // Adds `token`, matched where `pattern` occurs (its content, normalised when token.normalized). Empty
  // patterns are ignored, as HF ignores empty tokens; a repeated pattern keeps the last token.
  void add(const std::string& pattern, const AddedToken& token);
  bool empty() const { return tokens_.empty(); }

  // Splits valid UTF-8 `text` into added tokens and the text between them (empty stretches omitted),
  // replacing the contents of `out`.
  void split(std::string_view text, std::vector<TextSplit>& out) const;

 private:
  struct Node {
    std::vector<std::pair<unsigned char, std::int32_t>> children;
    std::int32_t token = -1;  // index into tokens_ if a pattern ends here
  };
  // Index of the token of the longest pattern starting at text[pos] and its length, or -1.
  std::int32_t longest_at(std::string_view text, std::size_t pos, std::size_t& length) const;

  std::vector<Node> nodes_{1};  // nodes_[0] is the root
  std::vector<AddedToken> tokens_;
  bool first_byte_[256] = {};
};

}  // namespace rwkv::neox

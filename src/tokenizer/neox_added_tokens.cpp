// Added-token matching (see neox_added_tokens.h). The search mirrors HF's AddedVocabulary: matches are
// found leftmost-longest and without overlap (the scan resumes after each pattern match, even one that
// single_word rejects); lstrip/rstrip then widen the accepted match over neighbouring whitespace.
#include "tokenizer/neox_added_tokens.h"

#include <algorithm>

#include "tokenizer/neox_unicode.h"

namespace rwkv::neox {
namespace {

bool ends_with_word(std::string_view s) {
  return !s.empty() && is_word_char(previous_code_point(s, s.size()));
}

bool starts_with_word(std::string_view s) {
  if (s.empty()) return false;
  std::size_t pos = 0;
  return is_word_char(next_code_point(s, pos));
}

// Start of the whitespace run that ends `s`.
std::size_t trailing_space_start(std::string_view s) {
  std::size_t end = s.size();
  while (end > 0) {
    std::size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    std::size_t pos = start;
    if (!is_white_space(next_code_point(s, pos))) break;
    end = start;
  }
  return end;
}

// Length of the whitespace run that starts `s`.
std::size_t leading_space_length(std::string_view s) {
  std::size_t pos = 0;
  while (pos < s.size()) {
    std::size_t next = pos;
    if (!is_white_space(next_code_point(s, next))) break;
    pos = next;
  }
  return pos;
}

}  // namespace

void AddedTokenMatcher::add(const std::string& pattern, const AddedToken& token) {
  if (pattern.empty()) return;
  std::int32_t node = 0;
  for (char ch : pattern) {
    const auto c = static_cast<unsigned char>(ch);
    auto& children = nodes_[node].children;
    const auto it =
        std::find_if(children.begin(), children.end(), [c](const auto& e) { return e.first == c; });
    if (it != children.end()) {
      node = it->second;
    } else {
      const auto child = static_cast<std::int32_t>(nodes_.size());
      children.emplace_back(c, child);
      nodes_.emplace_back();
      node = child;
    }
  }
  nodes_[node].token = static_cast<std::int32_t>(tokens_.size());
  tokens_.push_back(token);
  first_byte_[static_cast<unsigned char>(pattern[0])] = true;
}

std::int32_t AddedTokenMatcher::longest_at(std::string_view text, std::size_t pos,
                                           std::size_t& length) const {
  std::int32_t node = 0, best = -1;
  for (std::size_t i = pos; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const auto& children = nodes_[node].children;
    const auto it =
        std::find_if(children.begin(), children.end(), [c](const auto& e) { return e.first == c; });
    if (it == children.end()) break;
    node = it->second;
    if (nodes_[node].token >= 0) {
      best = nodes_[node].token;
      length = i + 1 - pos;
    }
  }
  return best;
}

void AddedTokenMatcher::split(std::string_view text, std::vector<TextSplit>& out) const {
  out.clear();
  std::size_t start_offset = 0;  // end of the last accepted split (HF's start_offset)
  std::size_t pos = 0;           // where the pattern search resumes
  while (pos < text.size()) {
    if (!first_byte_[static_cast<unsigned char>(text[pos])]) {
      ++pos;
      continue;
    }
    std::size_t length = 0;
    const std::int32_t index = longest_at(text, pos, length);
    if (index < 0) {
      ++pos;
      continue;
    }
    const AddedToken& token = tokens_[static_cast<std::size_t>(index)];
    std::size_t start = pos, stop = pos + length;
    pos = stop;
    if (token.single_word) {
      const bool free_left = start == 0 || !ends_with_word(text.substr(0, start));
      const bool free_right = stop == text.size() || !starts_with_word(text.substr(stop));
      if (!free_left || !free_right) continue;
    }
    if (token.lstrip) start = std::max(trailing_space_start(text.substr(0, start)), start_offset);
    if (token.rstrip) stop += leading_space_length(text.substr(stop));
    if (start_offset < start) out.push_back({start_offset, start, -1});
    out.push_back({start, stop, token.id});
    start_offset = stop;
  }
  if (start_offset < text.size()) out.push_back({start_offset, text.size(), -1});
}

}  // namespace rwkv::neox

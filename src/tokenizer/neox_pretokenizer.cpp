// GPT-2 split (see neox_pretokenizer.h). Each alternative of the regex becomes one branch below; the
// whitespace rule `\s+(?!\S)` gives back the last whitespace character of a run that is followed by a
// non-space, so that character can start the next piece (" word").
#include "tokenizer/neox_pretokenizer.h"

#include "tokenizer/neox_unicode.h"

namespace rwkv::neox {
namespace {

CharClass class_at(std::string_view s, std::size_t pos, std::size_t& next) {
  next = pos;
  return char_class(next_code_point(s, next));
}

// End of the run of characters of class `cls` starting at `pos`.
std::size_t run_end(std::string_view s, std::size_t pos, CharClass cls) {
  while (pos < s.size()) {
    const auto b = static_cast<unsigned char>(s[pos]);
    if (b < 0x80) {
      if (kAsciiClasses[b] != cls) break;
      ++pos;
      continue;
    }
    std::size_t next;
    if (class_at(s, pos, next) != cls) break;
    pos = next;
  }
  return pos;
}

// Length of a contraction ('s 't 're 've 'm 'll 'd, case-sensitive) at s[pos] == '\'', or 0.
std::size_t contraction_length(std::string_view s, std::size_t pos) {
  if (pos + 1 >= s.size()) return 0;
  const char c1 = s[pos + 1];
  if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
  if (pos + 2 >= s.size()) return 0;
  const char c2 = s[pos + 2];
  if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
  return 0;
}

// End of the piece that starts at `start`.
std::size_t piece_end(std::string_view s, std::size_t start) {
  if (s[start] == '\'') {
    if (const std::size_t len = contraction_length(s, start)) return start + len;
  }
  std::size_t after_first;
  const CharClass first = class_at(s, start, after_first);
  // " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+" with the optional leading space.
  if (s[start] == ' ' && after_first < s.size()) {
    std::size_t after_second;
    const CharClass second = class_at(s, after_first, after_second);
    if (second != CharClass::kSpace) return run_end(s, after_second, second);
  }
  if (first != CharClass::kSpace) return run_end(s, after_first, first);
  // "\s+(?!\S)": the whole run if it ends the text, else the run minus its last character; "\s+" when
  // that would leave nothing (a single whitespace character before a non-space).
  const std::size_t end = run_end(s, after_first, CharClass::kSpace);
  if (end == s.size()) return end;
  std::size_t last = end - 1;
  while ((static_cast<unsigned char>(s[last]) & 0xC0) == 0x80) --last;
  return last > start ? last : end;
}

}  // namespace

void split_gpt2(std::string_view text, std::vector<std::string_view>& pieces) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = piece_end(text, pos);
    pieces.push_back(text.substr(pos, end - pos));
    pos = end;
  }
}

}  // namespace rwkv::neox

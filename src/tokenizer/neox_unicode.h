// Unicode services for the GPT-NeoX-20B tokenizer, backed by utf8proc (Debian libutf8proc-dev): NFC
// normalisation, the character classes the GPT-2 split regex uses (\p{L}, \p{N}, \s), the regex-crate
// classes \w and \s that HF uses for added-token word boundaries, and a UTF-8 decoder for valid input.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace rwkv::neox {

// The classes of the GPT-2 pre-tokenizer regex. kSpace is Unicode White_Space (what Oniguruma's \s
// matches: U+0009..U+000D, U+0085 and the Zs/Zl/Zp categories), kLetter is \p{L}, kNumber is \p{N};
// everything else is kOther.
enum class CharClass : std::uint8_t { kLetter, kNumber, kSpace, kOther };

namespace detail {
constexpr std::array<CharClass, 128> make_ascii_classes() {
  std::array<CharClass, 128> t{};
  for (std::size_t c = 0; c < 128; ++c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      t[c] = CharClass::kLetter;
    } else if (c >= '0' && c <= '9') {
      t[c] = CharClass::kNumber;
    } else if ((c >= 0x09 && c <= 0x0D) || c == ' ') {
      t[c] = CharClass::kSpace;
    } else {
      t[c] = CharClass::kOther;
    }
  }
  return t;
}
}  // namespace detail

inline constexpr std::array<CharClass, 128> kAsciiClasses = detail::make_ascii_classes();

CharClass char_class_non_ascii(char32_t c);
inline CharClass char_class(char32_t c) {
  return c < 0x80 ? kAsciiClasses[c] : char_class_non_ascii(c);
}

// Rust regex \s (White_Space) and \w (Alphabetic, marks, decimal digits, connector punctuation,
// joiners) as HF's added-token single_word/lstrip/rstrip checks use them.
bool is_white_space(char32_t c);
bool is_word_char(char32_t c);

// Decodes the code point at s[pos] and advances pos. `s` must be valid UTF-8 (checked by the caller).
inline char32_t next_code_point(std::string_view s, std::size_t& pos) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80) {
    ++pos;
    return b0;
  }
  auto cont = [&](std::size_t k) {
    return static_cast<char32_t>(static_cast<unsigned char>(s[pos + k]) & 0x3F);
  };
  char32_t c;
  if (b0 < 0xE0) {
    c = (static_cast<char32_t>(b0 & 0x1F) << 6) | cont(1);
    pos += 2;
  } else if (b0 < 0xF0) {
    c = (static_cast<char32_t>(b0 & 0x0F) << 12) | (cont(1) << 6) | cont(2);
    pos += 3;
  } else {
    c = (static_cast<char32_t>(b0 & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3);
    pos += 4;
  }
  return c;
}

// Decodes the code point that ends just before s[end] (end > 0) and returns it; `s` must be valid UTF-8.
char32_t previous_code_point(std::string_view s, std::size_t end);

// Appends the UTF-8 encoding of `c` to `out`.
void append_utf8(char32_t c, std::string& out);

// Unicode Normalization Form C of valid UTF-8 `s`, appended to `out`. ASCII runs are copied directly;
// only spans holding non-ASCII characters go through utf8proc.
void append_nfc(std::string_view s, std::string& out);

}  // namespace rwkv::neox

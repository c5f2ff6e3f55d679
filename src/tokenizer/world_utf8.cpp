// UTF-8 validation and repair (see world_utf8.h). Follows the Unicode "maximal subpart" practice so the
// replacement output matches Python's bytes.decode("utf-8", errors="replace").
#include "tokenizer/world_utf8.h"

#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv {
namespace {

struct Scan {
  std::size_t length;  // bytes consumed: the whole sequence if valid, else the maximal subpart (>= 1)
  bool valid;
  bool truncated;  // valid so far but cut off by the end of the input
};

// Examines the sequence starting at s[i] (i < s.size()).
Scan scan_one(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return {1, true, false};
  std::size_t need;                    // continuation bytes after the lead byte
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the first continuation byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    if (b0 == 0xE0) lo = 0xA0;  // no overlongs
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    if (b0 == 0xF0) lo = 0x90;  // no overlongs
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return {1, false, false};  // 80..C1, F5..FF can never start a character
  }
  std::size_t k = 1;
  for (; k <= need; ++k) {
    if (i + k >= s.size()) return {k, false, true};
    const auto b = static_cast<unsigned char>(s[i + k]);
    const unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (b < l || b > h) return {k, false, false};
  }
  return {k, true, false};
}

}  // namespace

std::size_t find_invalid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    // Fast path: 8 ASCII bytes at a time.
    while (i + 8 <= s.size()) {
      unsigned char any = 0;
      for (std::size_t k = 0; k < 8; ++k) any |= static_cast<unsigned char>(s[i + k]);
      if (any & 0x80) break;
      i += 8;
    }
    if (i >= s.size()) break;
    const Scan sc = scan_one(s, i);
    if (!sc.valid) return i;
    i += sc.length;
  }
  return std::string_view::npos;
}

std::string to_valid_utf8(std::string_view s, bool replace) {
  const std::size_t bad = find_invalid_utf8(s);
  if (bad == std::string_view::npos) return std::string(s);
  if (!replace) throw Error(str("text is not valid UTF-8: invalid byte sequence at byte offset ", bad));
  std::string out(s.substr(0, bad));
  out.reserve(s.size() + 8);
  std::size_t i = bad;
  while (i < s.size()) {
    const Scan sc = scan_one(s, i);
    if (sc.valid) {
      out.append(s.substr(i, sc.length));
    } else {
      out.append("\xEF\xBF\xBD");
    }
    i += sc.length;
  }
  return out;
}

std::size_t utf8_complete_prefix(std::string_view s) {
  // Only the last three bytes can hold an incomplete character.
  const std::size_t start = s.size() > 3 ? s.size() - 3 : 0;
  for (std::size_t i = start; i < s.size(); ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0xC2 || b > 0xF4) continue;  // not a lead byte
    const Scan sc = scan_one(s, i);
    if (sc.truncated) return i;
  }
  return s.size();
}

}  // namespace rwkv

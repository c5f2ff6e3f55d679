// Unicode classes and NFC for the NeoX tokenizer (see neox_unicode.h). Categories and normalisation come
// from utf8proc; only the ASCII fast paths are tabulated here.
#include "tokenizer/neox_unicode.h"

#include <cstdlib>

#include <utf8proc.h>

#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv::neox {
namespace {

bool is_ascii(unsigned char b) {
  return b < 0x80;
}

}  // namespace

bool is_white_space(char32_t c) {
  if (c < 0x80) return kAsciiClasses[c] == CharClass::kSpace;
  if (c == 0x85) return true;
  const utf8proc_category_t cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP;
}

CharClass char_class_non_ascii(char32_t c) {
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return CharClass::kLetter;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return CharClass::kNumber;
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
      return CharClass::kSpace;
    default:
      return c == 0x85 ? CharClass::kSpace : CharClass::kOther;
  }
}

bool is_word_char(char32_t c) {
  if (c < 0x80)
    return kAsciiClasses[c] == CharClass::kLetter || kAsciiClasses[c] == CharClass::kNumber || c == '_';
  if (c == 0x200C || c == 0x200D) return true;  // Join_Control
  // Symbols that are Other_Alphabetic (circled and squared Latin letters).
  if ((c >= 0x24B6 && c <= 0x24E9) || (c >= 0x1F130 && c <= 0x1F149) || (c >= 0x1F150 && c <= 0x1F169) ||
      (c >= 0x1F170 && c <= 0x1F189))
    return true;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_PC:
      return true;
    default:
      return false;
  }
}

char32_t previous_code_point(std::string_view s, std::size_t end) {
  std::size_t start = end - 1;
  while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
  return next_code_point(s, start);
}

void append_utf8(char32_t c, std::string& out) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

// NFC never changes an ASCII character, and none composes with what precedes it, so the text can be cut
// before any ASCII character: each span [ASCII starter?][non-ASCII run] is normalised on its own.
void append_nfc(std::string_view s, std::string& out) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    std::size_t k = i;
    while (k < n && is_ascii(static_cast<unsigned char>(s[k]))) ++k;
    if (k == n) {
      out.append(s.data() + i, n - i);
      return;
    }
    const std::size_t start = k > i ? k - 1 : k;  // the ASCII character before may be a starter
    out.append(s.data() + i, start - i);
    std::size_t end = k;
    while (end < n && !is_ascii(static_cast<unsigned char>(s[end]))) ++end;
    utf8proc_uint8_t* mapped = nullptr;
    const utf8proc_ssize_t len =
        utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + start),
                     static_cast<utf8proc_ssize_t>(end - start), &mapped,
                     static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
    if (len < 0) {
      std::free(mapped);
      throw Error(str("NFC normalisation failed at byte offset ", start, ": ", utf8proc_errmsg(len)));
    }
    out.append(reinterpret_cast<const char*>(mapped), static_cast<std::size_t>(len));
    std::free(mapped);
    i = end;
  }
}

}  // namespace rwkv::neox

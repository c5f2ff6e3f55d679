// RWKV World vocab parser (see world_vocab_parser.h). Implements the subset of Python literal syntax a
// vocab line can use: str literals (escapes are code points, encoded as UTF-8) and bytes literals
// (escapes are raw bytes). Anything else is rejected rather than guessed.
#include "tokenizer/world_vocab_parser.h"

#include <array>
#include <string_view>
#include <unordered_set>

#include "rwkv/error.h"
#include "tokenizer/world_utf8.h"
#include "util/strcat.h"

namespace rwkv::world {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Reads exactly `digits` hex digits at body[i..]; returns -1 if they are not all there.
std::int64_t read_hex(std::string_view body, std::size_t i, std::size_t digits) {
  if (i + digits > body.size()) return -1;
  std::int64_t v = 0;
  for (std::size_t k = 0; k < digits; ++k) {
    const int h = hex_value(body[i + k]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

// Parses a non-empty run of ASCII digits (at most 9, so no overflow); -1 if `s` is anything else.
std::int64_t parse_decimal(std::string_view s) {
  if (s.empty() || s.size() > 9) return -1;
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

// Quotes file content for an error message: printable ASCII as is, everything else as \xHH, so the
// message stays valid UTF-8 whatever the file holds.
std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 24)) {
    const auto b = static_cast<unsigned char>(c);
    if (b >= 0x20 && b < 0x7F) {
      out.push_back(c);
    } else {
      out += "\\x";
      out.push_back("0123456789abcdef"[b >> 4]);
      out.push_back("0123456789abcdef"[b & 15]);
    }
  }
  if (s.size() > 24) out += "...";
  return out;
}

}  // namespace

bool decode_python_literal(std::string_view literal, std::string& out, std::string& why) {
  out.clear();
  bool is_bytes = false;
  if (!literal.empty() && (literal[0] == 'b' || literal[0] == 'B')) {
    is_bytes = true;
    literal.remove_prefix(1);
  }
  if (literal.size() < 2 || (literal[0] != '\'' && literal[0] != '"') || literal.back() != literal[0]) {
    why = "expected a quoted Python str or bytes literal";
    return false;
  }
  const char quote = literal[0];
  const std::string_view body = literal.substr(1, literal.size() - 2);
  if (!is_bytes && find_invalid_utf8(body) != std::string_view::npos) {
    why = str("str literal is not valid UTF-8 at byte ", find_invalid_utf8(body) + 1);
    return false;
  }
  std::size_t i = 0;
  while (i < body.size()) {
    const char c = body[i];
    if (c == quote) {
      why = str("unescaped quote inside the literal at character ", i + 2);
      return false;
    }
    if (c != '\\') {
      if (is_bytes && static_cast<unsigned char>(c) >= 0x80) {
        why = "bytes literal contains a non-ASCII character";
        return false;
      }
      out.push_back(c);
      ++i;
      continue;
    }
    if (i + 1 >= body.size()) {
      why = "literal ends with a lone backslash";
      return false;
    }
    const char e = body[i + 1];
    i += 2;
    std::int64_t value = -1;  // a code point (str) or byte (bytes) to append
    switch (e) {
      case '\\':
        value = '\\';
        break;
      case '\'':
        value = '\'';
        break;
      case '"':
        value = '"';
        break;
      case 'n':
        value = '\n';
        break;
      case 't':
        value = '\t';
        break;
      case 'r':
        value = '\r';
        break;
      case 'a':
        value = '\a';
        break;
      case 'b':
        value = '\b';
        break;
      case 'f':
        value = '\f';
        break;
      case 'v':
        value = '\v';
        break;
      case 'x':
        value = read_hex(body, i, 2);
        if (value < 0) {
          why = "\\x escape needs two hex digits";
          return false;
        }
        i += 2;
        break;
      case 'u':
      case 'U': {
        const std::size_t digits = e == 'u' ? 4 : 8;
        if (is_bytes) {
          why = str("\\", e, " escape is not allowed in a bytes literal");
          return false;
        }
        value = read_hex(body, i, digits);
        if (value < 0) {
          why = str("\\", e, " escape needs ", digits, " hex digits");
          return false;
        }
        i += digits;
        break;
      }
      default:
        if (e >= '0' && e <= '7') {  // octal: up to three digits
          value = e - '0';
          for (int k = 0; k < 2 && i < body.size() && body[i] >= '0' && body[i] <= '7'; ++k, ++i)
            value = value * 8 + (body[i] - '0');
          break;
        }
        why = str("unsupported escape sequence \\", printable(std::string_view(&e, 1)));
        return false;
    }
    if (is_bytes) {
      if (value > 0xFF) {
        why = "escape value above 0xFF in a bytes literal";
        return false;
      }
      out.push_back(static_cast<char>(value));
    } else {
      if (value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
        why = str("escape is not a Unicode scalar value (U+", std::hex, value, ")");
        return false;
      }
      append_utf8(out, static_cast<std::uint32_t>(value));
    }
  }
  return true;
}

ParsedVocab parse_world_vocab(std::string_view contents, const std::string& name) {
  ParsedVocab vocab;
  vocab.tokens.resize(1);
  std::vector<std::size_t> line_of_id(1, 0);  // 0 = id not seen
  std::string bytes, why;
  std::size_t line_no = 0, pos = 0;
  auto fail = [&](const auto&... parts) -> void {
    throw Error(str("vocab file ", name, ", line ", line_no, ": ", parts...));
  };
  while (pos < contents.size()) {
    ++line_no;
    std::size_t end = contents.find('\n', pos);
    if (end == std::string_view::npos) end = contents.size();
    std::string_view line = contents.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) fail("empty line (expected `<id> <literal> <byte length>`)");
    const std::size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
    if (sp1 == std::string_view::npos || sp1 == sp2)
      fail("expected `<id> <literal> <byte length>` separated by spaces");
    const std::int64_t id = parse_decimal(line.substr(0, sp1));
    if (id < 0) fail("id '", printable(line.substr(0, sp1)), "' is not a decimal number");
    if (id < 1 || id > kMaxVocabId)
      fail("id ", id, " is out of range 1..", kMaxVocabId, " (0 and 65535 are reserved)");
    const std::int64_t length = parse_decimal(line.substr(sp2 + 1));
    if (length < 0) fail("byte length '", printable(line.substr(sp2 + 1)), "' is not a decimal number");
    if (!decode_python_literal(line.substr(sp1 + 1, sp2 - sp1 - 1), bytes, why)) fail("bad literal: ", why);
    if (bytes.empty()) fail("empty token");
    if (static_cast<std::int64_t>(bytes.size()) != length)
      fail("byte length ", length, " does not match the literal, which is ", bytes.size(), " bytes");
    const auto uid = static_cast<std::size_t>(id);
    if (uid >= vocab.tokens.size()) {
      vocab.tokens.resize(uid + 1);
      line_of_id.resize(uid + 1, 0);
    }
    if (line_of_id[uid] != 0) fail("duplicate id ", id, " (first defined on line ", line_of_id[uid], ")");
    line_of_id[uid] = line_no;
    vocab.tokens[uid] = bytes;
  }
  const std::size_t n = vocab.tokens.size() - 1;
  if (n == 0) throw Error(str("vocab file ", name, ": no tokens"));
  for (std::size_t id = 1; id <= n; ++id) {
    if (line_of_id[id] == 0)
      throw Error(
          str("vocab file ", name, ": id ", id, " is missing (ids must run from 1 to ", n, " without gaps)"));
  }
  std::unordered_set<std::string_view> seen;
  seen.reserve(n * 2);
  std::array<bool, 256> single{};
  for (std::size_t id = 1; id <= n; ++id) {
    const std::string& t = vocab.tokens[id];
    if (t.size() == 1) single[static_cast<unsigned char>(t[0])] = true;
    if (!seen.insert(t).second) {
      std::size_t first = 1;
      while (vocab.tokens[first] != t) ++first;
      line_no = line_of_id[id];
      fail("token ", id, " has the same bytes as token ", first, " (line ", line_of_id[first], ")");
    }
  }
  for (int b = 0; b < 256; ++b) {
    if (!single[b]) {
      throw Error(str("vocab file ", name, ": no token for the single byte 0x", "0123456789ABCDEF"[b >> 4],
                      "0123456789ABCDEF"[b & 15],
                      " (every byte needs one, so that any input can be encoded)"));
    }
  }
  return vocab;
}

}  // namespace rwkv::world

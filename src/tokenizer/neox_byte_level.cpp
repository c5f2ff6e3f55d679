// The GPT-2 byte <-> character table (see neox_byte_level.h), computed once.
#include "tokenizer/neox_byte_level.h"

#include <array>

#include "tokenizer/neox_unicode.h"

namespace rwkv::neox {
namespace {

bool maps_to_itself(int b) {
  return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

struct Table {
  std::array<char32_t, 256> to_char{};
  std::array<std::int16_t, 0x144> to_byte{};  // every mapped character is below U+0144

  Table() {
    to_byte.fill(-1);
    char32_t next = 0x100;
    for (int b = 0; b < 256; ++b) {
      to_char[b] = maps_to_itself(b) ? static_cast<char32_t>(b) : next++;
      to_byte[to_char[b]] = static_cast<std::int16_t>(b);
    }
  }
};

const Table& table() {
  static const Table t;
  return t;
}

}  // namespace

char32_t byte_to_char(std::uint8_t b) {
  return table().to_char[b];
}

int char_to_byte(char32_t c) {
  return c < table().to_byte.size() ? table().to_byte[c] : -1;
}

std::string byte_level_decode(std::string_view token) {
  std::string bytes;
  bytes.reserve(token.size());
  for (std::size_t pos = 0; pos < token.size();) {
    const int b = char_to_byte(next_code_point(token, pos));
    if (b < 0) return std::string(token);
    bytes.push_back(static_cast<char>(b));
  }
  return bytes;
}

std::string byte_level_encode(std::string_view bytes) {
  std::string out;
  for (char c : bytes) append_utf8(byte_to_char(static_cast<std::uint8_t>(c)), out);
  return out;
}

}  // namespace rwkv::neox

// GPT-2's byte <-> character table, used by HF's ByteLevel pre-tokenizer and decoder: every byte maps to
// one printable code point, so BPE tokens are written as text in tokenizer.json. Bytes 0x21-0x7E,
// 0xA1-0xAC and 0xAE-0xFF map to themselves; the other 68 bytes map, in increasing order, to U+0100,
// U+0101, ... (space is U+0120 'Ġ', newline U+010A 'Ċ').
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rwkv::neox {

char32_t byte_to_char(std::uint8_t b);

// The byte that `c` stands for, or -1 if `c` is not one of the 256 mapped characters.
int char_to_byte(char32_t c);

// The bytes a token string (UTF-8 of mapped characters) stands for, as HF's ByteLevel decoder computes
// them: if every character is a mapped one, their bytes; otherwise the token's own UTF-8 bytes (added
// tokens such as "  " or "<|endoftext|>" decode to their literal text). `token` must be valid UTF-8.
std::string byte_level_decode(std::string_view token);

// The mapped string of raw bytes (the inverse of byte_level_decode for byte-level tokens), as UTF-8.
std::string byte_level_encode(std::string_view bytes);

}  // namespace rwkv::neox

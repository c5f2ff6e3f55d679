// UTF-8 helpers for tokenizer output: validation with the offset of the first bad byte, replacement of
// ill-formed sequences with U+FFFD (one per maximal subpart, as Python's errors="replace" does), and the
// longest prefix that does not end inside an incomplete character (for streaming output).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace rwkv {

// Offset of the first byte that is not part of a well-formed UTF-8 sequence, or npos if `s` is valid.
// Overlong forms, surrogates (ED A0..BF) and code points above U+10FFFF are ill-formed.
std::size_t find_invalid_utf8(std::string_view s);

// replace = false: returns `s` unchanged if it is valid UTF-8, else throws rwkv::Error naming the byte
// offset of the first invalid sequence. replace = true: returns `s` with every maximal ill-formed
// subpart replaced by U+FFFD (EF BF BD); never throws.
std::string to_valid_utf8(std::string_view s, bool replace);

// Length of the longest prefix of `s` that does not end with an incomplete (but so far well-formed)
// multi-byte sequence. Bytes that can never become valid are not held back. Streaming decoders print
// s[0, utf8_complete_prefix(s)) and keep the rest until more bytes arrive.
std::size_t utf8_complete_prefix(std::string_view s);

}  // namespace rwkv

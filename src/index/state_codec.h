// How the index stores a document's X070State: the values (shift [L,2,C] then wkv [L,H,N,N], the same
// order as docs/state-format.md) in one of four encodings. fp32 is exact; bf16 and fp16 round each
// value to nearest even; int8 stores blocks of 64 consecutive values as one fp32 scale (max |x| / 127)
// and 64 signed bytes. Decoding reads straight from the store's memory map (no copy of the blob).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "model/x070_state.h"

namespace rwkv::index {

enum class StateCodec : std::uint32_t { F32 = 0, BF16 = 1, F16 = 2, Int8 = 3 };

StateCodec parse_state_codec(std::string_view name);  // "fp32" | "bf16" | "fp16" | "int8"; throws
std::string_view state_codec_name(StateCodec c);

inline constexpr std::size_t kInt8Block = 64;

// Number of float values in a state of these dimensions.
std::size_t state_value_count(const X070Dims& d);
// Bytes of an encoded state of these dimensions.
std::size_t encoded_state_size(const X070Dims& d, StateCodec c);

// Writes encoded_state_size(...) bytes to out.
void encode_state(const X070State& s, StateCodec c, std::byte* out);
// Fills `s` (already shaped for the model) from encoded bytes; the size must match exactly (the caller
// names the record in its error message).
bool decode_state(std::span<const std::byte> in, StateCodec c, X070State& s);

}  // namespace rwkv::index

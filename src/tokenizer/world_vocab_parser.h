// Parser for the RWKV World vocab text format (rwkv_vocab_v20230424.txt): one token per line,
// `<id> <python str or bytes literal> <byte length>`. Validates every line and the id set.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rwkv::world {

// Largest id a vocab line may use: 0 is <|endoftext|> and 65535 the EmbeddingRWKV EOS.
inline constexpr std::int32_t kMaxVocabId = 65534;

// tokens[id] holds the bytes of token `id`; tokens[0] is empty (id 0 is not in the file).
struct ParsedVocab {
  std::vector<std::string> tokens;
};

// Parses a whole vocab file. `name` is used in error messages ("<name>:<line>: ..."). Throws
// rwkv::Error on: malformed line (missing fields, non-numeric id or length, bad literal, trailing
// garbage), wrong byte length, empty token, id outside 1..kMaxVocabId, duplicate id, duplicate byte
// string, ids not forming 1..N without gaps (names the first missing id), a byte value with no
// single-byte token (every input must be encodable), or an empty file.
ParsedVocab parse_world_vocab(std::string_view contents, const std::string& name);

// Decodes one Python literal ('..', "..", b'..', b".."). Returns false (with a reason) if malformed.
// Exposed for tests.
bool decode_python_literal(std::string_view literal, std::string& out, std::string& why);

}  // namespace rwkv::world

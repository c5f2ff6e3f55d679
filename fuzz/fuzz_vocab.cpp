// Fuzz target: arbitrary bytes as a World vocab file. Parsing must either succeed or throw rwkv::Error;
// when it succeeds, the resulting tokenizer must round-trip the same bytes through encode/decode.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "rwkv/error.h"
#include "tokenizer/world_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    const auto tok = rwkv::WorldTokenizer::from_string(bytes, "fuzz");
    const auto ids = tok.encode(bytes);
    if (tok.decode_bytes(ids) != bytes) std::abort();
    for (auto id : ids) {
      if (id < 1 || static_cast<std::size_t>(id) > tok.vocab_size()) std::abort();
    }
  } catch (const rwkv::Error&) {
    // Malformed vocab: expected.
  }
  return 0;
}

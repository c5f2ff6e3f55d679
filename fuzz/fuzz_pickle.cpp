// Fuzz target: bytes as a data.pkl for the restricted unpickler. Only rwkv::Error may escape.
#include <cstddef>
#include <cstdint>

#include "io/pickle.h"
#include "rwkv/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto result =
        rwkv::io::unpickle_state_dict({reinterpret_cast<const std::byte*>(data), size}, "fuzz.pkl");
    (void)result.metadata.dump();
  } catch (const rwkv::Error&) {
  }
  return 0;
}

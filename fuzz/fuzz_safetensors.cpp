// Fuzz target: bytes as a safetensors file opened through Checkpoint (header JSON, offsets, dtypes), then
// converts every small float tensor. Only rwkv::Error may escape.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "exercise_checkpoint.h"
#include "io/checkpoint.h"
#include "rwkv/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto* p = reinterpret_cast<const std::byte*>(data);
  exercise_checkpoint(p, size, "fuzz.safetensors");
  return 0;
}

// Fuzz target: bytes as a safetensors file opened through Checkpoint (header JSON, offsets, dtypes), then
// converts every small float tensor. Only rwkv::Error may escape.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "io/checkpoint.h"
#include "rwkv/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto* p = reinterpret_cast<const std::byte*>(data);
  try {
    const auto ckpt = rwkv::Checkpoint::from_memory(std::vector<std::byte>(p, p + size), "fuzz.safetensors");
    for (const auto& t : ckpt.tensors())
      if (t.numel() <= 65536 && (t.dtype == rwkv::DType::F32 || t.dtype == rwkv::DType::BF16 ||
                                 t.dtype == rwkv::DType::F16 || t.dtype == rwkv::DType::F64))
        (void)t.to_float();
    (void)ckpt.metadata().dump();
  } catch (const rwkv::Error&) {
  }
  return 0;
}

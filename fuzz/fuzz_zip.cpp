// Fuzz target: bytes as a zip archive / torch .pth checkpoint. Parses the directory, reads (and inflates)
// every entry, then opens the bytes as a Checkpoint. Only rwkv::Error may escape the parsers.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "io/checkpoint.h"
#include "io/zip_reader.h"
#include "rwkv/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto* p = reinterpret_cast<const std::byte*>(data);
  try {
    const rwkv::io::ZipReader zip({p, size}, "fuzz.zip");
    std::vector<std::byte> buffer;
    for (const auto& e : zip.entries()) {
      try {
        (void)zip.read(e, buffer);
      } catch (const rwkv::Error&) {
      }
    }
  } catch (const rwkv::Error&) {
  }
  try {
    const auto ckpt = rwkv::Checkpoint::from_memory(std::vector<std::byte>(p, p + size), "fuzz.pth");
    for (const auto& t : ckpt.tensors())
      if (t.numel() <= 65536 && (t.dtype == rwkv::DType::F32 || t.dtype == rwkv::DType::BF16 ||
                                 t.dtype == rwkv::DType::F16 || t.dtype == rwkv::DType::F64))
        (void)t.to_float();
    (void)ckpt.metadata().dump();
  } catch (const rwkv::Error&) {
  }
  return 0;
}

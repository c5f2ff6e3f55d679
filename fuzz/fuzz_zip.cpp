// Fuzz target: bytes as a zip archive / torch .pth checkpoint. Parses the directory, reads (and inflates)
// every entry, then opens the bytes as a Checkpoint. Only rwkv::Error may escape the parsers.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "exercise_checkpoint.h"
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
  exercise_checkpoint(p, size, "fuzz.pth");
  return 0;
}

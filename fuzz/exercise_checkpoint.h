// Shared by the checkpoint fuzz targets: opens bytes as a Checkpoint, converts every small float
// tensor and serialises the metadata. Only rwkv::Error may escape the parsers; anything else is a bug.
#pragma once

#include <cstddef>
#include <vector>

#include "io/checkpoint.h"
#include "rwkv/error.h"

inline void exercise_checkpoint(const std::byte* p, std::size_t size, const char* name) {
  try {
    const auto ckpt = rwkv::Checkpoint::from_memory(std::vector<std::byte>(p, p + size), name);
    for (const auto& t : ckpt.tensors())
      if (t.numel() <= 65536 && (t.dtype == rwkv::DType::F32 || t.dtype == rwkv::DType::BF16 ||
                                 t.dtype == rwkv::DType::F16 || t.dtype == rwkv::DType::F64))
        (void)t.to_float();
    (void)ckpt.metadata().dump();
  } catch (const rwkv::Error&) {
  }
}

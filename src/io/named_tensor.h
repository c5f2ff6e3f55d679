// NamedTensor: a tensor to be written to a checkpoint file (name, dtype, C-order shape, and a view of
// its little-endian bytes owned by the caller). Used by the safetensors and .pth writers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "io/tensor.h"

namespace rwkv {

struct NamedTensor {
  std::string name;
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;
  std::span<const std::byte> data;  // numel x dtype_size bytes, C order; must outlive the write call
};

// Throws rwkv::Error unless t.data holds exactly numel(shape) x dtype_size(dtype) bytes.
void check_named_tensor(const NamedTensor& t);

}  // namespace rwkv

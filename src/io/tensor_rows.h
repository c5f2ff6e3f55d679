// Row access to 2-D (or higher, flattened to rows of the last dimension) float tensors: converts one
// row to float32 without materialising the whole tensor. Used when packing weights and for embedding
// lookups straight from the memory map.
#pragma once

#include <cstdint>

#include "io/tensor.h"

namespace rwkv {

// Row `row` of length shape.back() of a contiguous F32/BF16/F16 tensor. Throws rwkv::Error otherwise.
void tensor_row_to_float(const TensorView& t, std::int64_t row, float* out);

}  // namespace rwkv

// Row conversion of float tensors (see tensor_rows.h).
#include "io/tensor_rows.h"

#include <cstring>

#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv {

void tensor_row_to_float(const TensorView& t, std::int64_t row, float* out) {
  if (t.shape.empty()) throw Error(str("tensor ", t.name, " has no rows"));
  if (!t.is_contiguous()) throw Error(str("tensor ", t.name, " must be contiguous"));
  const std::int64_t n = t.shape.back();
  if (row < 0 || (n > 0 && row >= t.numel() / n))
    throw Error(str("tensor ", t.name, ": row ", row, " out of range"));
  const std::byte* p = t.data + static_cast<std::size_t>(row) * n * dtype_size(t.dtype);
  switch (t.dtype) {
    case DType::F32:
      std::memcpy(out, p, sizeof(float) * n);
      return;
    case DType::BF16:
    case DType::F16:
      for (std::int64_t i = 0; i < n; ++i) {
        std::uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        out[i] = t.dtype == DType::BF16 ? bf16_to_float(h) : f16_to_float(h);
      }
      return;
    default:
      throw Error(str("tensor ", t.name, ": dtype ", dtype_name(t.dtype), " is not a float type"));
  }
}

}  // namespace rwkv

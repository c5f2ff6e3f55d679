// Row conversion of float tensors (see tensor_rows.h).
#include "io/tensor_rows.h"

#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv {

void tensor_row_to_float(const TensorView& t, std::int64_t row, float* out) {
  if (t.shape.empty()) throw Error(str("tensor ", t.name, " has no rows"));
  if (!t.is_contiguous()) throw Error(str("tensor ", t.name, " must be contiguous"));
  const std::int64_t n = t.shape.back();
  if (row < 0 || (n > 0 && row >= t.numel() / n))
    throw Error(str("tensor ", t.name, ": row ", row, " out of range"));
  if (t.dtype != DType::F32 && t.dtype != DType::BF16 && t.dtype != DType::F16)
    throw Error(str("tensor ", t.name, ": dtype ", dtype_name(t.dtype), " is not a float type"));
  contiguous_to_float(t.dtype, t.data + static_cast<std::size_t>(row) * n * dtype_size(t.dtype),
                      static_cast<std::size_t>(n), out);
}

}  // namespace rwkv

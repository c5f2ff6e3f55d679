// TensorView: a non-owning view of one tensor inside a memory-mapped checkpoint (name, dtype, shape,
// strides, data pointer). Valid while the Checkpoint that produced it is alive. Dtype conversion to
// float32 is done on demand by to_float().
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rwkv {

enum class DType { F32, F16, BF16, F64, I8, U8, I16, I32, I64, Bool };

std::string_view dtype_name(DType t);  // "F32", "BF16", ... (safetensors spelling)
std::size_t dtype_size(DType t);       // bytes per element

struct TensorView {
  std::string name;
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;
  std::vector<std::int64_t> strides;  // in elements, PyTorch convention
  const std::byte* data = nullptr;    // first element (storage offset already applied)

  std::int64_t numel() const;
  bool is_contiguous() const;
  // Converts to float32 in C order (handles strides). Throws rwkv::Error for non-float dtypes.
  std::vector<float> to_float() const;
  void to_float(std::span<float> out) const;  // out.size() must equal numel()
};

// Converts n contiguous elements of a float dtype (F32, BF16, F16, F64) to float32. Other dtypes are the
// caller's error to report (they are converted to 0).
void contiguous_to_float(DType t, const std::byte* src, std::size_t n, float* out);

// Element conversions (exact for bf16/f16 -> f32).
float bf16_to_float(std::uint16_t v);
float f16_to_float(std::uint16_t v);
std::uint16_t float_to_bf16(float v);  // round to nearest even
std::uint16_t float_to_f16(float v);   // round to nearest even

}  // namespace rwkv

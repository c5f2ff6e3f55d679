// TensorView helpers: dtype names/sizes, shape arithmetic, and float32 conversion (bf16/f16/f32/f64,
// contiguous or strided). Element conversions are bit-exact and round to nearest even.
#include "io/tensor.h"

#include <cmath>
#include <cstring>

#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv {

std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::F32:
      return "F32";
    case DType::F16:
      return "F16";
    case DType::BF16:
      return "BF16";
    case DType::F64:
      return "F64";
    case DType::I8:
      return "I8";
    case DType::U8:
      return "U8";
    case DType::I16:
      return "I16";
    case DType::I32:
      return "I32";
    case DType::I64:
      return "I64";
    case DType::Bool:
      return "BOOL";
  }
  return "?";
}

std::size_t dtype_size(DType t) {
  switch (t) {
    case DType::F64:
    case DType::I64:
      return 8;
    case DType::F32:
    case DType::I32:
      return 4;
    case DType::F16:
    case DType::BF16:
    case DType::I16:
      return 2;
    case DType::I8:
    case DType::U8:
    case DType::Bool:
      return 1;
  }
  return 1;
}

std::int64_t TensorView::numel() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

bool TensorView::is_contiguous() const {
  std::int64_t expected = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    if (shape[i] == 0) return true;
    if (shape[i] != 1 && strides[i] != expected) return false;
    if (__builtin_mul_overflow(expected, shape[i], &expected)) return false;
  }
  return true;
}

namespace {

template <typename T>
T load(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

float element_to_float(DType t, const std::byte* p) {
  switch (t) {
    case DType::F32:
      return load<float>(p);
    case DType::BF16:
      return bf16_to_float(load<std::uint16_t>(p));
    case DType::F16:
      return f16_to_float(load<std::uint16_t>(p));
    case DType::F64:
      return static_cast<float>(load<double>(p));
    default:
      return 0.0f;
  }
}

}  // namespace

void contiguous_to_float(DType t, const std::byte* src, std::size_t n, float* out) {
  if (t == DType::F32) {
    std::memcpy(out, src, n * sizeof(float));
    return;
  }
  const std::size_t esize = dtype_size(t);
  for (std::size_t i = 0; i < n; ++i) out[i] = element_to_float(t, src + i * esize);
}

std::vector<float> TensorView::to_float() const {
  std::vector<float> out(static_cast<std::size_t>(numel()));
  to_float(out);
  return out;
}

void TensorView::to_float(std::span<float> out) const {
  if (dtype != DType::F32 && dtype != DType::BF16 && dtype != DType::F16 && dtype != DType::F64)
    throw Error(str("tensor ", name, ": cannot convert dtype ", dtype_name(dtype), " to float32"));
  const auto n = static_cast<std::size_t>(numel());
  if (out.size() != n)
    throw Error(str("tensor ", name, ": output buffer holds ", out.size(), " floats, tensor has ", n));
  if (n == 0) return;
  const std::size_t esize = dtype_size(dtype);
  if (is_contiguous()) {
    contiguous_to_float(dtype, data, n, out.data());
    return;
  }
  // Strided: walk the multi-index in C order, keeping the element offset incrementally.
  const std::size_t rank = shape.size();
  std::vector<std::int64_t> index(rank, 0);
  std::int64_t offset = 0;
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = element_to_float(dtype, data + static_cast<std::size_t>(offset) * esize);
    for (std::size_t d = rank; d-- > 0;) {
      if (++index[d] < shape[d]) {
        offset += strides[d];
        break;
      }
      offset -= strides[d] * (shape[d] - 1);
      index[d] = 0;
    }
  }
}

float bf16_to_float(std::uint16_t v) {
  const std::uint32_t bits = static_cast<std::uint32_t>(v) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

float f16_to_float(std::uint16_t v) {
  const std::uint32_t sign = static_cast<std::uint32_t>(v & 0x8000u) << 16;
  const std::uint32_t exp = (v >> 10) & 0x1fu;
  const std::uint32_t mant = v & 0x3ffu;
  if (exp == 0) {  // zero or subnormal: mant * 2^-24, exact in float32
    const float mag = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -mag : mag;
  }
  std::uint32_t bits;
  if (exp == 31)
    bits = sign | 0x7f800000u | (mant << 13);
  else
    bits = sign | ((exp + 112u) << 23) | (mant << 13);
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

std::uint16_t float_to_bf16(float v) {
  std::uint32_t x;
  std::memcpy(&x, &v, sizeof x);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((x >> 16) | 0x40u);  // quiet NaN
  x += 0x7fffu + ((x >> 16) & 1u);
  return static_cast<std::uint16_t>(x >> 16);
}

std::uint16_t float_to_f16(float v) {
  std::uint32_t x;
  std::memcpy(&x, &v, sizeof x);
  const std::uint32_t sign = (x >> 16) & 0x8000u;
  const std::uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u)  // inf or NaN (NaN stays a quiet NaN)
    return static_cast<std::uint16_t>(sign | 0x7c00u |
                                      (ax > 0x7f800000u ? 0x200u | ((ax >> 13) & 0x3ffu) : 0u));
  if (ax >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // rounds past 65504
  if (ax <= 0x33000000u) return static_cast<std::uint16_t>(sign);            // <= 2^-25 rounds to zero
  const std::uint32_t e = ax >> 23;
  if (e < 113) {  // half subnormal: value / 2^-24, rounded
    const std::uint32_t m = (ax & 0x7fffffu) | 0x800000u;
    const std::uint32_t shift = 126 - e;  // 14..24
    std::uint32_t r = m >> shift;
    const std::uint32_t rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (r & 1u))) ++r;
    return static_cast<std::uint16_t>(sign | r);
  }
  std::uint32_t r = ((e - 112u) << 10) | ((ax >> 13) & 0x3ffu);
  const std::uint32_t rem = ax & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) ++r;  // carry may roll into the exponent: correct
  return static_cast<std::uint16_t>(sign | r);
}

}  // namespace rwkv

// State encodings of the document index (fp32, bf16, fp16, block int8).
#include "index/state_codec.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "io/tensor.h"
#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv::index {

namespace {

// Visits the state's values as two contiguous runs (shift, then wkv) without copying them.
template <typename F>
void for_runs(X070State& s, F&& f) {
  f(s.shift.data(), s.shift.size());
  f(s.wkv.data(), s.wkv.size());
}
template <typename F>
void for_runs(const X070State& s, F&& f) {
  f(s.shift.data(), s.shift.size());
  f(s.wkv.data(), s.wkv.size());
}

std::size_t int8_size(std::size_t n) {
  const std::size_t blocks = (n + kInt8Block - 1) / kInt8Block;
  return blocks * sizeof(float) + n;
}

// int8 layout of one run: all block scales first (fp32), then all quantised values.
void encode_int8(const float* x, std::size_t n, std::byte* out) {
  const std::size_t blocks = (n + kInt8Block - 1) / kInt8Block;
  auto* q = reinterpret_cast<std::int8_t*>(out + blocks * sizeof(float));
  for (std::size_t b = 0; b < blocks; ++b) {
    const std::size_t begin = b * kInt8Block, end = std::min(n, begin + kInt8Block);
    float m = 0.0f;
    for (std::size_t i = begin; i < end; ++i) m = std::max(m, std::fabs(x[i]));
    const float scale = m / 127.0f, inv = m > 0.0f ? 127.0f / m : 0.0f;
    std::memcpy(out + b * sizeof(float), &scale, sizeof(float));
    for (std::size_t i = begin; i < end; ++i)
      q[i] = static_cast<std::int8_t>(std::clamp(std::lrint(x[i] * inv), -127L, 127L));
  }
}

void decode_int8(const std::byte* in, std::size_t n, float* x) {
  const std::size_t blocks = (n + kInt8Block - 1) / kInt8Block;
  const auto* q = reinterpret_cast<const std::int8_t*>(in + blocks * sizeof(float));
  for (std::size_t b = 0; b < blocks; ++b) {
    float scale;
    std::memcpy(&scale, in + b * sizeof(float), sizeof(float));
    const std::size_t begin = b * kInt8Block, end = std::min(n, begin + kInt8Block);
    for (std::size_t i = begin; i < end; ++i) x[i] = scale * static_cast<float>(q[i]);
  }
}

void decode_bf16(const std::byte* in, std::size_t n, float* x) {
  for (std::size_t i = 0; i < n; ++i) {
    std::uint16_t h;
    std::memcpy(&h, in + 2 * i, 2);
    const std::uint32_t u = static_cast<std::uint32_t>(h) << 16;
    std::memcpy(x + i, &u, 4);
  }
}

// Bytes of one encoded run of n values.
std::size_t run_size(std::size_t n, StateCodec c) {
  switch (c) {
    case StateCodec::F32:
      return n * 4;
    case StateCodec::BF16:
    case StateCodec::F16:
      return n * 2;
    case StateCodec::Int8:
      return int8_size(n);
  }
  return 0;
}

}  // namespace

StateCodec parse_state_codec(std::string_view name) {
  if (name == "fp32") return StateCodec::F32;
  if (name == "bf16") return StateCodec::BF16;
  if (name == "fp16") return StateCodec::F16;
  if (name == "int8") return StateCodec::Int8;
  throw Error(str("unknown state dtype '", name, "' (expected fp32, bf16, fp16 or int8)"));
}

std::string_view state_codec_name(StateCodec c) {
  switch (c) {
    case StateCodec::F32:
      return "fp32";
    case StateCodec::BF16:
      return "bf16";
    case StateCodec::F16:
      return "fp16";
    case StateCodec::Int8:
      return "int8";
  }
  return "?";
}

std::size_t state_value_count(const X070Dims& d) {
  return static_cast<std::size_t>(d.n_layer) * 2 * d.n_embd +
         static_cast<std::size_t>(d.n_layer) * d.n_head * d.head_size * d.head_size;
}

std::size_t encoded_state_size(const X070Dims& d, StateCodec c) {
  const std::size_t shift = static_cast<std::size_t>(d.n_layer) * 2 * d.n_embd;
  const std::size_t wkv = state_value_count(d) - shift;
  return run_size(shift, c) + run_size(wkv, c);
}

void encode_state(const X070State& s, StateCodec c, std::byte* out) {
  for_runs(s, [&](const float* x, std::size_t n) {
    switch (c) {
      case StateCodec::F32:
        std::memcpy(out, x, n * 4);
        out += n * 4;
        break;
      case StateCodec::BF16:
      case StateCodec::F16:
        for (std::size_t i = 0; i < n; ++i) {
          const std::uint16_t h = c == StateCodec::BF16 ? float_to_bf16(x[i]) : float_to_f16(x[i]);
          std::memcpy(out + 2 * i, &h, 2);
        }
        out += n * 2;
        break;
      case StateCodec::Int8:
        encode_int8(x, n, out);
        out += run_size(n, c);
        break;
    }
  });
}

bool decode_state(std::span<const std::byte> in, StateCodec c, X070State& s) {
  std::size_t want = 0;
  for_runs(s, [&](const float*, std::size_t n) { want += run_size(n, c); });
  if (in.size() != want) return false;
  const std::byte* p = in.data();
  for_runs(s, [&](float* x, std::size_t n) {
    switch (c) {
      case StateCodec::F32:
        std::memcpy(x, p, n * 4);
        p += n * 4;
        break;
      case StateCodec::BF16:
        decode_bf16(p, n, x);
        p += n * 2;
        break;
      case StateCodec::F16:
        for (std::size_t i = 0; i < n; ++i) {
          std::uint16_t h;
          std::memcpy(&h, p + 2 * i, 2);
          x[i] = f16_to_float(h);
        }
        p += n * 2;
        break;
      case StateCodec::Int8:
        decode_int8(p, n, x);
        p += int8_size(n);
        break;
    }
  });
  return true;
}

}  // namespace rwkv::index

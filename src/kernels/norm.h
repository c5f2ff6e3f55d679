// Row-wise normalisations and small vector helpers used by the model (fp32, double accumulators for
// the statistics so results do not depend on vector width).
#pragma once

#include <cstddef>

namespace rwkv {

// y = (x - mean) / sqrt(var + eps) * w + b over n channels (biased variance). y may alias x.
void layer_norm(const float* x, float* y, int n, const float* w, const float* b, float eps);
// GroupNorm with groups of `group` channels (n a multiple of group), per-channel affine w, b.
void group_norm(const float* x, float* y, int n, int group, const float* w, const float* b, float eps);

inline float sigmoidf(float x);

}  // namespace rwkv

#include <cmath>

namespace rwkv {
inline float sigmoidf(float x) {
  return 1.0f / (1.0f + std::exp(-x));
}
}  // namespace rwkv

// Portable row-wise normalisations (fp32 data, double accumulators for the statistics) for the paths
// that are not hot: embedding lookups, heads, the reranker. The model's hot LayerNorm is the per-ISA
// kernel in KernelTable.
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

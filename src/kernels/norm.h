// Portable row-wise LayerNorm (fp32 data, double accumulators for the statistics) for the paths that are
// not hot: embedding lookups, heads, the reranker. The model's hot normalisations are the per-ISA kernels
// in KernelTable (layer_norm, and the per-head GroupNorm inside wkv_output).
#pragma once

#include <cstddef>

namespace rwkv {

// y = (x - mean) / sqrt(var + eps) * w + b over n channels (biased variance). y may alias x.
void layer_norm(const float* x, float* y, int n, const float* w, const float* b, float eps);

}  // namespace rwkv

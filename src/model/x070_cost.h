// Cost model of the x070 forward pass: FLOPs per token (matrix products and WKV) and weight bytes
// read per token, for benchmarks (achieved GFLOP/s, % of peak, bandwidth bounds).
#pragma once

#include <cstdint>

#include "model/x070_weights.h"

namespace rwkv {

struct X070Cost {
  double matmul_flops = 0;  // per token, 2 x multiply-adds of every projection
  double wkv_flops = 0;     // per token, the recurrence (about 10 flops per state element)
  double total() const { return matmul_flops + wkv_flops; }
};
X070Cost x070_cost_per_token(const X070Dims& d);
// Bytes of packed weights one token reads (every projection once), at `bytes_per_weight`.
double x070_weight_bytes_per_token(const X070Dims& d, double bytes_per_weight);

}  // namespace rwkv

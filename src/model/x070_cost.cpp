// x070 cost model (see x070_cost.h).
#include "model/x070_cost.h"

namespace rwkv {

namespace {
double macs_per_token(const X070Dims& d) {
  const double C = d.n_embd;
  double macs = 0;
  for (int l = 0; l < d.n_layer; ++l) {
    macs += 4 * C * C + 2 * C * d.ffn;        // r, k, v, o; ffn key and value
    macs += 2 * C * (d.d_w + d.d_a + d.d_g);  // decay, in-context rate and gate LoRAs
    if (l > 0) macs += 2 * C * d.d_v;         // value residual LoRA
  }
  return macs;
}
}  // namespace

X070Cost x070_cost_per_token(const X070Dims& d) {
  X070Cost c;
  c.matmul_flops = 2 * macs_per_token(d);
  c.wkv_flops = 10.0 * d.n_layer * d.n_head * d.head_size * d.head_size;
  return c;
}

double x070_weight_bytes_per_token(const X070Dims& d, double bytes_per_weight) {
  return macs_per_token(d) * bytes_per_weight + d.n_embd * bytes_per_weight;  // + one embedding row
}

}  // namespace rwkv

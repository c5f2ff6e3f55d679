// Weights of RWKV-7 ("x070") blocks, prepared once from a checkpoint: vectors squeezed to [C], Linear
// weights and LoRA factors packed for the GEMM. Every dimension is read from tensor shapes. Shared by
// the embedding backbone, the state reranker and (later) the language model.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "kernels/gemm.h"

namespace rwkv {

struct X070Dims {
  int n_layer = 0, n_embd = 0, n_head = 0, head_size = 0, ffn = 0;
  int d_w = 0, d_a = 0, d_v = 0, d_g = 0;  // LoRA widths (d_v: 0 if no block has a value residual)
};

struct X070Block {
  std::vector<float> ln1_w, ln1_b, ln2_w, ln2_b;
  std::vector<float> x_r, x_w, x_k, x_v, x_a, x_g;
  std::vector<float> w0, a0, v0, k_k, k_a, r_k;  // r_k flattened [H*N]
  std::vector<float> lnx_w, lnx_b, ffn_x_k;
  PackedMatrix R, K, V, O;                      // att receptance/key/value/output (Linear)
  PackedMatrix w1, w2, a1, a2, v1, v2, g1, g2;  // LoRA factors ([in, out] as stored)
  PackedMatrix FK, FV;                          // ffn key/value (Linear)
  bool has_value_residual = false;              // v0/v1/v2 present (blocks >= 1)
};

// Reads blocks `prefix`0.. `prefix`(n-1) (e.g. "rwkv.blocks."). Missing tensors and inconsistent
// shapes are reported with file and tensor name.
struct X070Stack {
  X070Dims dims;
  std::vector<X070Block> blocks;
  std::vector<float> ln0_w, ln0_b;  // from block 0
};
// `precision` chooses how the projection matrices are packed (fp32: exact; bf16: half the memory, faster).
X070Stack load_x070_stack(const Checkpoint& ckpt, const std::string& prefix,
                          WeightPrecision precision = WeightPrecision::F32);

// Squeezed float copy of a tensor that must hold exactly `numel` values.
std::vector<float> load_vector(const Checkpoint& ckpt, const std::string& name, long numel);
// Highest N such that `prefix`N.`probe` exists, plus one (0 if none).
int count_blocks(const Checkpoint& ckpt, const std::string& prefix);

}  // namespace rwkv

// Weights of an RWKV-4 ("x040") language model, prepared once from a checkpoint in the RWKV-4-Pile layout
// (spec: shared/spec/rwkv4-tokenizers-sampling.md §1.1-1.2): time_* vectors squeezed to 1-D, the decay
// turned into w = -exp(time_decay), the token-shift complements (1 - mix) precomputed, and every Linear
// weight packed for the GEMM. All dimensions come from tensor shapes. The embedding table stays in the
// memory map (ln0 is applied to each row as it is looked up).
#pragma once

#include <vector>

#include "io/checkpoint.h"
#include "kernels/gemm.h"

namespace rwkv {

struct X040Dims {
  int n_layer = 0;
  int n_embd = 0;  // D: residual width
  int n_att = 0;   // A: attention width (= D in every released model)
  int n_ffn = 0;   // F: channel-mix hidden width
  int vocab = 0;
};

struct X040Block {
  std::vector<float> ln1_w, ln1_b, ln2_w, ln2_b;
  std::vector<float> decay;  // w = -exp(time_decay) [A]
  std::vector<float> first;  // u = time_first [A]
  // Token-shift weights μ and their complements 1 - μ: att k, v, r [D]; ffn k, r [D].
  std::vector<float> att_mix_k, att_mix_v, att_mix_r, att_keep_k, att_keep_v, att_keep_r;
  std::vector<float> ffn_mix_k, ffn_mix_r, ffn_keep_k, ffn_keep_r;
  PackedMatrix K, V, R, O;  // att key/value/receptance [D->A], output [A->D]
  PackedMatrix FK, FR, FV;  // ffn key [D->F], receptance [D->D], value [F->D]
};

struct X040Weights {
  X040Dims dims;
  std::vector<X040Block> blocks;
  std::vector<float> ln0_w, ln0_b;  // folded into each embedding row at lookup
  std::vector<float> ln_out_w, ln_out_b;
  PackedMatrix head;  // head.weight [V, D] as a [D -> V] product
};

// Throws rwkv::Error naming the file and tensor for a missing tensor, a wrong shape or dtype, a
// ChatRWKV-converted file, or an RWKV-5/6 checkpoint. The embedding table is validated but not copied.
X040Weights load_x040_weights(const Checkpoint& ckpt, WeightPrecision precision);

}  // namespace rwkv

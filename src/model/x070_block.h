// One RWKV-7 block (time mix + channel mix) applied to the rows of a ragged batch. Rows are grouped in
// segments; each segment is consecutive tokens of one sequence with its own state. Shared by the
// embedding backbone (many tokens, carried shifts) and the state reranker (one token, zero shifts).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/dispatch.h"
#include "model/bf16_rows.h"
#include "model/block_context.h"
#include "model/x070_weights.h"
#include "util/aligned.h"
#include "util/thread_pool.h"

namespace rwkv {

struct BlockSegment {
  int row0 = 0, len = 0;       // rows [row0, row0 + len) of the activation matrix
  float* shift_att = nullptr;  // [C] previous ln1 output; nullptr = zero and not updated
  float* shift_ffn = nullptr;  // [C] previous ln2 output; nullptr = zero and not updated
  float* wkv = nullptr;        // [H, N, N] WKV state of this layer, updated in place
};

// Scratch buffers for one forward call, sized for up to `rows` rows. Reused across layers and calls.
class BlockWorkspace {
 public:
  void reserve(int rows, const X070Dims& d);
  // With bf16 weights the token shifts are written rounded, as the products read them: six matrices of
  // rows x ld_bf16 (>= width, even) in place of xr..xg (later in the block, xr16 holds the attention
  // output and xk16 the channel mix's shift).
  void reserve_bf16(int rows, int width);
  // hidden (rows x ffn) may share the memory of r .. y, which the channel mix no longer needs.
  float *u, *xr, *xw, *xk, *xv, *xa, *xg, *r, *k, *v, *dec, *a, *g, *kk, *y, *lora_w, *lora_a, *lora_g,
      *lora_v, *hidden;
  std::uint16_t *xr16 = nullptr, *xw16 = nullptr, *xk16 = nullptr, *xv16 = nullptr, *xa16 = nullptr,
                *xg16 = nullptr;
  std::size_t ld_bf16 = 0;
  GemmScratch gemm_scratch;

 private:
  AlignedVector<float> buf_;
  Bf16Rows bf16_;
  int rows_ = 0;
  long ffn_ = 0, lora_ = 0, embd_ = 0;
};

// x [rows, C] is updated in place. v_first [rows, C] is written by layer 0 and read by later layers.
void x070_block_forward(const BlockContext& ctx, const X070Block& blk, const X070Dims& d, int layer, int rows,
                        const std::vector<BlockSegment>& segs, float* x, float* v_first, BlockWorkspace& ws);

}  // namespace rwkv

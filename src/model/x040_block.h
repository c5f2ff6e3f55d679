// One RWKV-4 block (time mix + channel mix) applied to the rows of a ragged batch (spec §1.3-1.4, §2).
// Rows are grouped in segments, each a run of consecutive tokens of one sequence with its own layer
// state. Projections are GEMMs over all rows; the WKV recurrence runs per (segment, channel block) in
// token order. Every row's arithmetic is the same whatever the batch, the segments or the thread count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "model/bf16_rows.h"
#include "model/block_context.h"
#include "model/x040_weights.h"
#include "util/aligned.h"

namespace rwkv {

struct X040Segment {
  int row0 = 0, len = 0;   // rows [row0, row0 + len)
  float* state = nullptr;  // this layer's state: att_xx [D], aa [A], bb [A], pp [A], ffn_xx [D]
};

// Scratch buffers for one forward call, sized for up to `rows` rows. Reused across layers and calls.
class X040Workspace {
 public:
  void reserve(int rows, const X040Dims& d);
  // With bf16 weights the token shifts are written rounded, as the products read them: three matrices of
  // rows x ld_bf16 (>= width, even) in place of kx, vx, rx.
  void reserve_bf16(int rows, int width);
  float *xx, *kx, *vx, *rx, *k, *v, *r, *y, *out, *xx2, *fr, *hidden;
  std::uint16_t *kx16 = nullptr, *vx16 = nullptr, *rx16 = nullptr;
  std::size_t ld_bf16 = 0;
  GemmScratch gemm_scratch;

 private:
  AlignedVector<float> buf_;
  Bf16Rows bf16_;
  int rows_ = 0;
  long width_ = 0, ffn_ = 0;
};

// x [rows, D] is updated in place; each segment's layer state is advanced.
void x040_block_forward(const BlockContext& ctx, const X040Block& blk, const X040Dims& d, int layer, int rows,
                        const std::vector<X040Segment>& segs, float* x, X040Workspace& ws);

}  // namespace rwkv

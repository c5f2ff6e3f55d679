// RWKV-7 block math (spec: shared/spec/rwkv7-embedding.md §4). Projections are GEMMs over all rows;
// the WKV recurrence runs per (segment, head) in order of tokens.
#include "model/x070_block.h"

#include <algorithm>
#include <cstring>

namespace rwkv {

namespace {
constexpr float kLayerNormEps = 1e-5f;
constexpr float kGroupNormEps = 64e-5f;
}  // namespace

void BlockWorkspace::reserve(int rows, const X070Dims& d) {
  const long width = std::max({d.d_w, d.d_a, d.d_v, d.d_g, 1});
  if (rows <= rows_ && d.ffn <= ffn_ && width <= lora_ && d.n_embd <= embd_) return;
  rows_ = std::max(rows, rows_);
  ffn_ = std::max<long>(d.ffn, ffn_);
  lora_ = std::max(width, lora_);
  embd_ = std::max<long>(d.n_embd, embd_);
  const std::size_t rc = static_cast<std::size_t>(rows_) * embd_;
  // The FFN's hidden rows are written after the O product has read y, when r .. y (8 matrices of rows x C,
  // one after another) hold nothing the block still needs: they share that memory when the hidden layer
  // fits (an FFN up to 8 C wide; the 0.1B shape's 4 C saves 3 MB of a 256-row workspace).
  const std::size_t hidden_size = static_cast<std::size_t>(rows_) * ffn_;
  const bool hidden_shares = hidden_size <= 8 * rc;
  buf_.assign(rc * 15 + static_cast<std::size_t>(rows_) * 4 * lora_ + (hidden_shares ? 0 : hidden_size),
              0.0f);
  float* p = buf_.data();
  for (float** slot : {&u, &xr, &xw, &xk, &xv, &xa, &xg, &r, &k, &v, &dec, &a, &g, &kk, &y})
    *slot = p, p += rc;
  for (float** slot : {&lora_w, &lora_a, &lora_g, &lora_v})
    *slot = p, p += static_cast<std::size_t>(rows_) * lora_;
  hidden = hidden_shares ? r : p;
}

void BlockWorkspace::reserve_bf16(int rows, int width) {
  if (!bf16_.reserve(rows, width, 6)) return;
  std::size_t i = 0;
  for (std::uint16_t** slot : {&xr16, &xw16, &xk16, &xv16, &xa16, &xg16}) *slot = bf16_.matrix(i++);
  ld_bf16 = bf16_.ld();
}

void x070_block_forward(const BlockContext& ctx, const X070Block& blk, const X070Dims& d, int layer, int rows,
                        const std::vector<BlockSegment>& segs, float* x, float* v_first, BlockWorkspace& ws) {
  const int C = d.n_embd, H = d.n_head, N = d.head_size;
  const std::size_t ldc = static_cast<std::size_t>(C);
  auto row = [&](float* m, int t) { return m + static_cast<std::size_t>(t) * ldc; };
  auto run = [&](std::initializer_list<GemmJob> jobs) {
    gemm_many(ctx.kt, ctx.pool, rows, std::span<const GemmJob>(jobs.begin(), jobs.size()), &ws.gemm_scratch);
  };
  // Previous-token row of each row within its segment (nullptr = the segment's carried shift).
  std::vector<int> seg_start(static_cast<std::size_t>(rows));
  std::vector<const BlockSegment*> seg_of(static_cast<std::size_t>(rows));
  for (const BlockSegment& s : segs)
    for (int t = s.row0; t < s.row0 + s.len; ++t) seg_start[t] = s.row0, seg_of[t] = &s;

  // LayerNorm of x into `normed`, then for each row its token shift (the previous row's normed value, or
  // the segment's carried shift) handed to `mix(t, cur, prev)`; one pass over each piece of rows. The
  // first row of a piece normalises its predecessor itself, so no piece waits for another.
  auto norm_and_shift = [&](const std::vector<float>& w, const std::vector<float>& b, float* normed,
                            float* BlockSegment::*shift, auto&& mix) {
    ctx.pool.parallel_for(static_cast<std::size_t>(rows), 8, [&](std::size_t b0, std::size_t e0, int) {
      std::vector<float> before(static_cast<std::size_t>(C));
      for (std::size_t i = b0; i < e0; ++i) {
        const int t = static_cast<int>(i);
        ctx.kt.layer_norm(row(x, t), row(normed, t), C, w.data(), b.data(), kLayerNormEps);
        const float* prev = nullptr;
        if (t > seg_start[t]) {
          if (i == b0) {
            ctx.kt.layer_norm(row(x, t - 1), before.data(), C, w.data(), b.data(), kLayerNormEps);
            prev = before.data();
          } else {
            prev = row(normed, t - 1);
          }
        } else {
          prev = seg_of[t]->*shift;
        }
        mix(t, row(normed, t), prev);
      }
    });
  };

  // ---- time mix ----
  // bf16 weights (all of a block's matrices share one precision) read their A rows rounded to bf16: the
  // token shifts are rounded as they are written, and the products take them as they are.
  const bool bf16 = blk.R.precision() == WeightPrecision::BF16;
  if (bf16) ws.reserve_bf16(rows, C);
  const std::size_t ld16 = ws.ld_bf16;
  auto row16 = [&](std::uint16_t* m, int t) { return m + static_cast<std::size_t>(t) * ld16; };
  // A job whose A is a token shift (or the attention output): the fp32 rows, or their bf16 copy.
  auto shifted = [&](const float* a, const std::uint16_t* a16, const PackedMatrix& m, float* c,
                     std::size_t ldc_, Epilogue e = Epilogue::Store) {
    return bf16 ? GemmJob{nullptr, 0, &m, c, ldc_, e, a16, ld16} : GemmJob{a, ldc, &m, c, ldc_, e};
  };
  norm_and_shift(blk.ln1_w, blk.ln1_b, ws.u, &BlockSegment::shift_att,
                 [&](int t, const float* u, const float* prev) {
                   const float* const mix[] = {blk.x_r.data(), blk.x_w.data(), blk.x_k.data(),
                                               blk.x_v.data(), blk.x_a.data(), blk.x_g.data()};
                   if (bf16) {
                     std::uint16_t* const out[] = {row16(ws.xr16, t), row16(ws.xw16, t), row16(ws.xk16, t),
                                                   row16(ws.xv16, t), row16(ws.xa16, t), row16(ws.xg16, t)};
                     return ctx.kt.token_mix_bf16(u, prev, ldc, 6, mix, out, ld16);
                   }
                   float* const out[] = {row(ws.xr, t), row(ws.xw, t), row(ws.xk, t),
                                         row(ws.xv, t), row(ws.xa, t), row(ws.xg, t)};
                   ctx.kt.token_mix(u, prev, ldc, 6, mix, out);
                 });
  // The three projections and the first halves of the low-rank products (with their activations), then
  // the second halves: decay logits tanh(xw w1) w2, in-context rate logits (xa a1) a2, gate
  // sigmoid(xg g1) g2, and from layer 1 on the value-residual gate logits (xv v1) v2 (into xw, now free).
  auto lw = [&](const PackedMatrix& m) { return static_cast<std::size_t>(m.N()); };
  const GemmJob first[] = {
      shifted(ws.xr, ws.xr16, blk.R, ws.r, ldc),
      shifted(ws.xk, ws.xk16, blk.K, ws.k, ldc),
      shifted(ws.xv, ws.xv16, blk.V, ws.v, ldc),
      shifted(ws.xw, ws.xw16, blk.w1, ws.lora_w, lw(blk.w1), Epilogue::Tanh),
      shifted(ws.xa, ws.xa16, blk.a1, ws.lora_a, lw(blk.a1)),
      shifted(ws.xg, ws.xg16, blk.g1, ws.lora_g, lw(blk.g1), Epilogue::Sigmoid),
      shifted(ws.xv, ws.xv16, blk.v1, ws.lora_v, lw(blk.v1)),
  };
  gemm_many(ctx.kt, ctx.pool, rows, std::span<const GemmJob>(first, layer > 0 ? 7 : 6), &ws.gemm_scratch);
  const GemmJob second[] = {
      {ws.lora_w, lw(blk.w1), &blk.w2, ws.dec, ldc},
      {ws.lora_a, lw(blk.a1), &blk.a2, ws.a, ldc},
      {ws.lora_g, lw(blk.g1), &blk.g2, ws.g, ldc},
      {ws.lora_v, lw(blk.v1), &blk.v2, ws.xw, ldc},
  };
  gemm_many(ctx.kt, ctx.pool, rows, std::span<const GemmJob>(second, layer > 0 ? 4 : 3), &ws.gemm_scratch);

  // Per (segment, head): the head's WKV inputs for each row, the recurrence over the segment's tokens, then
  // the head's output (GroupNorm, bonus, gate) for each row. Every step works on the head's 64 channels
  // alone, so one task does all three while its rows are in cache, with no pass of its own in between.
  const std::size_t n_tasks = segs.size() * static_cast<std::size_t>(H);
  const std::size_t head_state = static_cast<std::size_t>(N) * N;
  ctx.pool.run_tasks(n_tasks, [&](std::size_t task, int) {
    const BlockSegment& s = segs[task / H];
    const int h = static_cast<int>(task % H);
    const std::size_t c0 = static_cast<std::size_t>(h) * N;
    const WkvRowConsts hc{blk.w0.data() + c0,    blk.a0.data() + c0,    blk.k_k.data() + c0,
                          blk.k_a.data() + c0,   blk.v0.data() + c0,    blk.r_k.data() + c0,
                          blk.lnx_w.data() + c0, blk.lnx_b.data() + c0, N,
                          kGroupNormEps};
    for (int t = s.row0; t < s.row0 + s.len; ++t)
      ctx.kt.wkv_inputs(hc, row(ws.dec, t) + c0, row(ws.a, t) + c0, row(ws.k, t) + c0, row(ws.kk, t) + c0,
                        row(ws.v, t) + c0, row(v_first, t) + c0,
                        layer > 0 ? row(ws.xw, t) + c0 : nullptr);  // xw holds the value-gate logits
    const std::size_t off = static_cast<std::size_t>(s.row0) * ldc + c0;
    ctx.kt.wkv7(s.len, ldc, ws.r + off, ws.dec + off, ws.k + off, ws.v + off, ws.kk + off, ws.a + off,
                s.wkv + h * head_state, ws.y + off);
    for (int t = s.row0; t < s.row0 + s.len; ++t)
      ctx.kt.wkv_output(hc, row(ws.y, t) + c0, row(ws.r, t) + c0, row(ws.k, t) + c0, row(ws.v, t) + c0,
                        row(ws.g, t) + c0,
                        bf16 ? row16(ws.xr16, t) + c0 : nullptr);  // (xr16 is free once the projections ran)
  });

  run({shifted(ws.y, ws.xr16, blk.O, x, ldc, Epilogue::Accumulate)});  // x += y O
  if (ctx.trace) (*ctx.trace)(layer, kTraceAfterAtt, x, rows);

  // ---- channel mix ----
  norm_and_shift(blk.ln2_w, blk.ln2_b, ws.xr, &BlockSegment::shift_ffn,
                 [&](int t, const float* xf, const float* prev) {
                   const float* const mix[] = {blk.ffn_x_k.data()};
                   if (bf16) {
                     std::uint16_t* const out[] = {row16(ws.xk16, t)};
                     return ctx.kt.token_mix_bf16(xf, prev, ldc, 1, mix, out, ld16);
                   }
                   float* const out[] = {row(ws.xk, t)};
                   ctx.kt.token_mix(xf, prev, ldc, 1, mix, out);
                 });
  const std::size_t lf = static_cast<std::size_t>(d.ffn);
  run({shifted(ws.xk, ws.xk16, blk.FK, ws.hidden, lf, Epilogue::ReluSquared)});  // relu(kappa FK)^2
  run({{ws.hidden, lf, &blk.FV, x, ldc, Epilogue::Accumulate}});                 // x += hidden FV
  if (ctx.trace) (*ctx.trace)(layer, kTraceAfterFfn, x, rows);

  // Carry the shifts: last ln1 / ln2 outputs of each segment.
  for (const BlockSegment& s : segs) {
    const int last = s.row0 + s.len - 1;
    if (s.shift_att) std::memcpy(s.shift_att, row(ws.u, last), sizeof(float) * ldc);
    if (s.shift_ffn) std::memcpy(s.shift_ffn, row(ws.xr, last), sizeof(float) * ldc);
  }
}

}  // namespace rwkv

// RWKV-4 block math (spec: shared/spec/rwkv4-tokenizers-sampling.md §1.3-1.4).
#include "model/x040_block.h"

#include <algorithm>
#include <cstring>

namespace rwkv {

namespace {

constexpr float kLayerNormEps = 1e-5f;
constexpr int kWkvChannelBlock = 64;  // channels per WKV task

}  // namespace

void X040Workspace::reserve(int rows, const X040Dims& d) {
  const long width = std::max(d.n_embd, d.n_att);
  if (rows <= rows_ && width <= width_ && d.n_ffn <= ffn_) return;
  rows_ = std::max(rows, rows_);
  width_ = std::max(width, width_);
  ffn_ = std::max<long>(d.n_ffn, ffn_);
  const std::size_t rw = static_cast<std::size_t>(rows_) * width_;
  buf_.assign(rw * 11 + static_cast<std::size_t>(rows_) * ffn_, 0.0f);
  float* p = buf_.data();
  for (float** slot : {&xx, &kx, &vx, &rx, &k, &v, &r, &y, &out, &xx2, &fr}) *slot = p, p += rw;
  hidden = p;
}

void X040Workspace::reserve_bf16(int rows, int width) {
  if (!bf16_.reserve(rows, width, 3)) return;
  std::size_t i = 0;
  for (std::uint16_t** slot : {&kx16, &vx16, &rx16}) *slot = bf16_.matrix(i++);
  ld_bf16 = bf16_.ld();
}

void x040_block_forward(const BlockContext& ctx, const X040Block& blk, const X040Dims& d, int layer, int rows,
                        const std::vector<X040Segment>& segs, float* x, X040Workspace& ws) {
  const int D = d.n_embd, A = d.n_att;
  const std::size_t ld = static_cast<std::size_t>(D), la = static_cast<std::size_t>(A);
  const std::size_t lf = static_cast<std::size_t>(d.n_ffn);
  auto row = [](float* m, int t, std::size_t stride) { return m + static_cast<std::size_t>(t) * stride; };
  auto gemm_rows = [&](const float* in, std::size_t lda, const PackedMatrix& B, float* out, std::size_t ldo,
                       Epilogue epilogue) {
    gemm(ctx.kt, ctx.pool, rows, in, lda, B, out, ldo, &ws.gemm_scratch, epilogue);
  };
  auto for_rows = [&](auto&& fn) {
    ctx.pool.parallel_for(static_cast<std::size_t>(rows), 8, [&](std::size_t b, std::size_t e, int) {
      for (std::size_t t = b; t < e; ++t) fn(static_cast<int>(t));
    });
  };
  // Per row: the segment it belongs to, so row t's previous token is row t-1 or the carried shift.
  std::vector<const X040Segment*> seg_of(static_cast<std::size_t>(rows));
  for (const X040Segment& s : segs)
    for (int t = s.row0; t < s.row0 + s.len; ++t) seg_of[t] = &s;
  auto att_xx = [&](const X040Segment& s) { return s.state; };
  auto ffn_xx = [&](const X040Segment& s) { return s.state + D + 3 * la; };

  // Products whose weights are bf16 read their A rows rounded to bf16: the token shifts feeding them are
  // rounded as they are written (the bits gemm_many's own rounding would give).
  auto all_bf16 = [](std::initializer_list<const PackedMatrix*> ms) {
    for (const PackedMatrix* m : ms)
      if (m->precision() != WeightPrecision::BF16) return false;
    return true;
  };
  const bool att16 = all_bf16({&blk.K, &blk.V, &blk.R}), ffn16 = all_bf16({&blk.FK, &blk.FR});
  if (att16 || ffn16) ws.reserve_bf16(rows, D);
  const std::size_t l16 = ws.ld_bf16;
  auto row16 = [&](std::uint16_t* m, int t) { return m + static_cast<std::size_t>(t) * l16; };
  // A job reading a token shift: its fp32 rows, or their bf16 copy.
  auto shifted = [&](bool as_bf16, const float* a, const std::uint16_t* a16, const PackedMatrix& m, float* c,
                     std::size_t ldc, Epilogue e) {
    return as_bf16 ? GemmJob{nullptr, 0, &m, c, ldc, e, a16, l16} : GemmJob{a, ld, &m, c, ldc, e};
  };

  // ---- time mix ----
  for_rows([&](int t) {
    ctx.kt.layer_norm(row(x, t, ld), row(ws.xx, t, ld), D, blk.ln1_w.data(), blk.ln1_b.data(), kLayerNormEps);
  });
  for_rows([&](int t) {
    const X040Segment& s = *seg_of[t];
    const float* cur = row(ws.xx, t, ld);
    const float* prev = t > s.row0 ? row(ws.xx, t - 1, ld) : att_xx(s);
    const float* const mix[] = {blk.att_mix_k.data(), blk.att_mix_v.data(), blk.att_mix_r.data()};
    const float* const keep[] = {blk.att_keep_k.data(), blk.att_keep_v.data(), blk.att_keep_r.data()};
    if (att16) {
      std::uint16_t* const out[] = {row16(ws.kx16, t), row16(ws.vx16, t), row16(ws.rx16, t)};
      return ctx.kt.token_mix_keep_bf16(cur, prev, ld, 3, mix, keep, out, l16);
    }
    float* const out[] = {row(ws.kx, t, ld), row(ws.vx, t, ld), row(ws.rx, t, ld)};
    ctx.kt.token_mix_keep(cur, prev, ld, 3, mix, keep, out);
  });
  // k, v and r = sigmoid(rx R) as one set of parallel tasks.
  const GemmJob kvr[] = {shifted(att16, ws.kx, ws.kx16, blk.K, ws.k, la, Epilogue::Store),
                         shifted(att16, ws.vx, ws.vx16, blk.V, ws.v, la, Epilogue::Store),
                         shifted(att16, ws.rx, ws.rx16, blk.R, ws.r, la, Epilogue::Sigmoid)};
  gemm_many(ctx.kt, ctx.pool, rows, kvr, &ws.gemm_scratch);

  const std::size_t blocks = (la + kWkvChannelBlock - 1) / kWkvChannelBlock;
  ctx.pool.run_tasks(segs.size() * blocks, [&](std::size_t task, int) {
    const X040Segment& s = segs[task / blocks];
    const int c0 = static_cast<int>(task % blocks) * kWkvChannelBlock;
    const int c1 = std::min(A, c0 + kWkvChannelBlock);
    float* aa = s.state + D;
    const std::size_t off = static_cast<std::size_t>(s.row0) * la;
    ctx.kt.wkv4(s.len, la, c1 - c0, blk.decay.data() + c0, blk.first.data() + c0, ws.k + off + c0,
                ws.v + off + c0, ws.r + off + c0, ws.y + off + c0, aa + c0, aa + A + c0, aa + 2 * A + c0);
  });
  gemm_rows(ws.y, la, blk.O, x, ld, Epilogue::Accumulate);  // x += (r * wkv) O
  if (ctx.trace) (*ctx.trace)(layer, kTraceAfterAtt, x, rows);

  // ---- channel mix ----
  for_rows([&](int t) {
    ctx.kt.layer_norm(row(x, t, ld), row(ws.xx2, t, ld), D, blk.ln2_w.data(), blk.ln2_b.data(),
                      kLayerNormEps);
  });
  for_rows([&](int t) {
    const X040Segment& s = *seg_of[t];
    const float* cur = row(ws.xx2, t, ld);
    const float* prev = t > s.row0 ? row(ws.xx2, t - 1, ld) : ffn_xx(s);
    const float* const mix[] = {blk.ffn_mix_k.data(), blk.ffn_mix_r.data()};
    const float* const keep[] = {blk.ffn_keep_k.data(), blk.ffn_keep_r.data()};
    if (ffn16) {
      std::uint16_t* const out[] = {row16(ws.kx16, t), row16(ws.rx16, t)};
      return ctx.kt.token_mix_keep_bf16(cur, prev, ld, 2, mix, keep, out, l16);
    }
    float* const out[] = {row(ws.kx, t, ld), row(ws.rx, t, ld)};
    ctx.kt.token_mix_keep(cur, prev, ld, 2, mix, keep, out);
  });
  // hidden = relu(kx FK)^2 and the gate sigmoid(rx FR) together, then the value projection.
  const GemmJob key_gate[] = {shifted(ffn16, ws.kx, ws.kx16, blk.FK, ws.hidden, lf, Epilogue::ReluSquared),
                              shifted(ffn16, ws.rx, ws.rx16, blk.FR, ws.fr, ld, Epilogue::Sigmoid)};
  gemm_many(ctx.kt, ctx.pool, rows, key_gate, &ws.gemm_scratch);
  gemm_rows(ws.hidden, lf, blk.FV, ws.out, ld, Epilogue::Store);
  for_rows([&](int t) {
    float* xt = row(x, t, ld);
    const float *o = row(ws.out, t, ld), *g = row(ws.fr, t, ld);
    for (int c = 0; c < D; ++c) xt[c] += g[c] * o[c];
  });
  if (ctx.trace) (*ctx.trace)(layer, kTraceAfterFfn, x, rows);

  // Carry the shifts: the last ln1 / ln2 outputs of each segment.
  for (const X040Segment& s : segs) {
    const int last = s.row0 + s.len - 1;
    std::memcpy(att_xx(s), row(ws.xx, last, ld), sizeof(float) * ld);
    std::memcpy(ffn_xx(s), row(ws.xx2, last, ld), sizeof(float) * ld);
  }
}

}  // namespace rwkv

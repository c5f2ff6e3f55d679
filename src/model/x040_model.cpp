// X040Model: loading, the chunked ragged-batch forward pass and the LM head.
#include "model/x040_model.h"

#include <algorithm>
#include <cstring>

#include "io/tensor_rows.h"
#include "kernels/norm.h"
#include "model/chunking.h"
#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv {

namespace {
constexpr float kLayerNormEps = 1e-5f;
constexpr int kHeadRows = 64;  // rows per head GEMM (bounds the logits scratch to 64 x vocab floats)
}  // namespace

X040Model::X040Model(std::shared_ptr<const Checkpoint> ckpt, WeightPrecision precision, int chunk_tokens)
    : ckpt_(std::move(ckpt)), precision_(precision), chunk_tokens_(std::max(chunk_tokens, 1)) {
  w_ = load_x040_weights(*ckpt_, precision);
  emb_ = &ckpt_->get("emb.weight");
  ckpt_->expect_random_access(*emb_);  // token lookups read single rows at random
}

void X040Model::embed_row(TokenId id, float* out) const {
  tensor_row_to_float(*emb_, id, out);
  layer_norm(out, out, w_.dims.n_embd, w_.ln0_w.data(), w_.ln0_b.data(), kLayerNormEps);
}

LmCost X040Model::cost_per_token() const {
  LmCost c;
  double bytes = 0;
  for (const X040Block& b : w_.blocks)
    for (const PackedMatrix* m : {&b.K, &b.V, &b.R, &b.O, &b.FK, &b.FR, &b.FV}) {
      c.block_flops += 2.0 * m->K() * m->N();
      bytes += static_cast<double>(m->bytes());
    }
  c.head_flops = 2.0 * w_.head.K() * w_.head.N();
  c.weight_bytes = bytes + static_cast<double>(w_.head.bytes()) +
                   static_cast<double>(w_.dims.n_embd) * static_cast<double>(dtype_size(emb_->dtype));
  return c;
}

void X040Model::forward_sequences(std::span<X040Request> batch, const KernelTable& kt, ThreadPool& pool,
                                  int chunk_tokens, const ResidualTrace* trace) const {
  const X040Dims& d = w_.dims;
  const int D = d.n_embd, V = d.vocab;
  for (std::size_t b = 0; b < batch.size(); ++b) {
    const X040Request& r = batch[b];
    if (!r.state || !r.state->matches(d))
      throw Error(str("sequence ", b, ": state does not match the model"));
    check_sequence(b, r.tokens, V, r.output_positions);
  }

  std::vector<std::size_t> lengths;
  for (const X040Request& r : batch) lengths.push_back(r.tokens.size());
  ChunkPacker packer(std::move(lengths), chunk_tokens);
  X040Workspace ws;
  ws.reserve(packer.max_rows(), d);
  AlignedVector<float> x(static_cast<std::size_t>(packer.max_rows()) * D), normed(x.size());
  AlignedVector<float> logits;
  GemmScratch head_scratch;
  std::vector<std::size_t> next_out(batch.size(), 0);
  std::vector<ChunkPiece> pieces;
  std::vector<float*> outputs;  // destination logits rows of the gathered ln_out rows
  std::vector<X040Segment> segs;
  int rows = 0;
  while (packer.next(pieces, rows)) {
    for (const ChunkPiece& p : pieces)
      for (int t = 0; t < p.len; ++t)
        embed_row(batch[p.seq].tokens[p.begin + t], x.data() + static_cast<std::size_t>(p.row0 + t) * D);
    if (trace) (*trace)(-1, kTraceEmbedding, x.data(), rows);
    for (int l = 0; l < d.n_layer; ++l) {
      segs.clear();
      for (const ChunkPiece& p : pieces) segs.push_back({p.row0, p.len, batch[p.seq].state->layer(l)});
      x040_block_forward({kt, pool, trace}, w_.blocks[l], d, l, rows, segs, x.data(), ws);
    }
    // ln_out of the requested rows, gathered for one head GEMM.
    outputs.clear();
    for (const ChunkPiece& p : pieces) {
      X040Request& r = batch[p.seq];
      std::size_t& o = next_out[p.seq];
      while (o < r.output_positions.size() &&
             static_cast<std::size_t>(r.output_positions[o]) < p.begin + static_cast<std::size_t>(p.len)) {
        const int t = p.row0 + static_cast<int>(r.output_positions[o] - p.begin);
        float* dst = normed.data() + outputs.size() * D;
        layer_norm(x.data() + static_cast<std::size_t>(t) * D, dst, D, w_.ln_out_w.data(), w_.ln_out_b.data(),
                   kLayerNormEps);
        if (r.hidden) std::memcpy(r.hidden + o * D, dst, sizeof(float) * D);
        if (r.logits) outputs.push_back(r.logits + o * static_cast<std::size_t>(V));
        ++o;
      }
    }
    for (std::size_t g = 0; g < outputs.size(); g += kHeadRows) {
      const int m = static_cast<int>(std::min<std::size_t>(kHeadRows, outputs.size() - g));
      if (logits.size() < static_cast<std::size_t>(m) * V) logits.resize(static_cast<std::size_t>(m) * V);
      gemm(kt, pool, m, normed.data() + g * D, D, w_.head, logits.data(), V, &head_scratch);
      for (int i = 0; i < m; ++i)
        std::memcpy(outputs[g + i], logits.data() + static_cast<std::size_t>(i) * V, sizeof(float) * V);
    }
  }
}

void X040Model::forward_batch(std::span<LmRequest> batch, const KernelTable& kt, ThreadPool& pool) const {
  std::vector<X040Request> reqs(batch.size());
  std::vector<int> last(batch.size());
  for (std::size_t b = 0; b < batch.size(); ++b) {
    const LmRequest& r = batch[b];
    auto* st = dynamic_cast<X040State*>(r.state);
    if (!st || !st->matches(w_.dims))
      throw Error(str("sequence ", b, ": the state does not belong to this RWKV-4 model"));
    if (r.logits && r.tokens.empty())
      throw Error(str("sequence ", b, ": logits requested for an empty token list"));
    last[b] = static_cast<int>(r.tokens.size()) - 1;
    reqs[b] = {r.tokens, st, {}, r.logits, nullptr};
    if (r.logits) reqs[b].output_positions = std::span<const int>(&last[b], 1);
  }
  forward_sequences(reqs, kt, pool, chunk_tokens_);
}

}  // namespace rwkv

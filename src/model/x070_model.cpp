// X070Model: loading the backbone and the chunked ragged-batch forward pass.
#include "model/x070_model.h"

#include <algorithm>
#include <cstring>

#include "io/tensor_rows.h"
#include "kernels/norm.h"
#include "model/chunking.h"
#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv {

std::uint64_t checkpoint_fingerprint(const Checkpoint& ckpt, const std::string& prefix) {
  std::uint64_t h = fnv1a64(prefix.data(), prefix.size());
  std::vector<float> sample;
  for (const TensorView& t : ckpt.tensors()) {
    if (t.name.rfind(prefix, 0) != 0) continue;
    h = fnv1a64(t.name.data(), t.name.size(), h);
    for (auto s : t.shape) h = fnv1a64(&s, sizeof(s), h);
    if (t.dtype != DType::F32 && t.dtype != DType::BF16 && t.dtype != DType::F16) continue;
    // Hash values as float32 so bf16 and fp32 copies of one model share a fingerprint.
    const std::int64_t rows = t.shape.empty() ? 1 : t.numel() / std::max<std::int64_t>(1, t.shape.back());
    const std::int64_t cols = t.shape.empty() ? 1 : t.shape.back();
    if (t.shape.empty() || !t.is_contiguous()) continue;
    sample.resize(static_cast<std::size_t>(cols));
    for (std::int64_t r : {std::int64_t{0}, rows / 2, rows - 1}) {
      tensor_row_to_float(t, r, sample.data());
      h = fnv1a64(sample.data(), sample.size() * sizeof(float), h);
    }
  }
  return h;
}

X070Model::X070Model(std::shared_ptr<const Checkpoint> ckpt, const std::string& prefix,
                     WeightPrecision precision)
    : ckpt_(std::move(ckpt)), precision_(precision) {
  // Fingerprint first: it samples rows of every tensor, and loading then drops the blocks' pages.
  fingerprint_ = checkpoint_fingerprint(*ckpt_, prefix);
  stack_ = load_x070_stack(*ckpt_, prefix + "blocks.", precision);
  const int C = stack_.dims.n_embd;
  emb_ = &ckpt_->get(prefix + "emb.weight");
  if (emb_->shape.size() != 2 || emb_->shape[1] != C)
    throw Error(str(ckpt_->path(), ": tensor ", emb_->name, " must be [vocab, ", C, "]"));
  if (emb_->dtype != DType::F32 && emb_->dtype != DType::BF16 && emb_->dtype != DType::F16)
    throw Error(
        str(ckpt_->path(), ": tensor ", emb_->name, " has unsupported dtype ", dtype_name(emb_->dtype)));
  if (!emb_->is_contiguous()) throw Error(str(ckpt_->path(), ": tensor ", emb_->name, " must be contiguous"));
  vocab_ = static_cast<int>(emb_->shape[0]);
  ln_out_w_ = load_vector(*ckpt_, prefix + "ln_out.weight", C);
  ln_out_b_ = load_vector(*ckpt_, prefix + "ln_out.bias", C);
  // Token lookups read single rows at random: map only the rows read (the fingerprint's included).
  ckpt_->drop_pages(*emb_);
  ckpt_->expect_random_access(*emb_);
}

void X070Model::embed_row(TokenId id, float* out) const {
  tensor_row_to_float(*emb_, id, out);
  layer_norm(out, out, stack_.dims.n_embd, stack_.ln0_w.data(), stack_.ln0_b.data(), 1e-5f);
}

void X070Model::forward(std::span<SequenceRequest> batch, const KernelTable& kt, ThreadPool& pool,
                        int chunk_tokens, const ResidualTrace* trace) const {
  const X070Dims& d = stack_.dims;
  const int C = d.n_embd;
  for (std::size_t b = 0; b < batch.size(); ++b) {
    const SequenceRequest& r = batch[b];
    if (!r.state || !r.state->matches(d))
      throw Error(str("sequence ", b, ": state does not match the model"));
    check_sequence(b, r.tokens, vocab_, r.output_positions);
  }

  // Buffers for the rows actually needed (a short query or a decode step is far below a chunk).
  std::vector<std::size_t> lengths;
  for (const SequenceRequest& r : batch) lengths.push_back(r.tokens.size());
  ChunkPacker packer(std::move(lengths), chunk_tokens);
  BlockWorkspace ws;
  ws.reserve(packer.max_rows(), d);
  AlignedVector<float> x(static_cast<std::size_t>(packer.max_rows()) * C), v_first(x.size());
  std::vector<std::size_t> next_out(batch.size(), 0);
  std::vector<ChunkPiece> pieces;
  std::vector<BlockSegment> segs;
  int rows = 0;
  while (packer.next(pieces, rows)) {
    for (const ChunkPiece& p : pieces)
      for (int t = 0; t < p.len; ++t)
        embed_row(batch[p.seq].tokens[p.begin + t], x.data() + static_cast<std::size_t>(p.row0 + t) * C);
    if (trace) (*trace)(-1, kTraceEmbedding, x.data(), rows);
    for (int l = 0; l < d.n_layer; ++l) {
      segs.clear();
      for (const ChunkPiece& p : pieces) {
        X070State& st = *batch[p.seq].state;
        segs.push_back({p.row0, p.len, st.shift_att(l), st.shift_ffn(l), st.wkv_layer(l)});
      }
      x070_block_forward({kt, pool, trace}, stack_.blocks[l], d, l, rows, segs, x.data(), v_first.data(), ws);
    }
    for (const ChunkPiece& p : pieces) {
      SequenceRequest& r = batch[p.seq];
      std::size_t& o = next_out[p.seq];
      while (o < r.output_positions.size() &&
             static_cast<std::size_t>(r.output_positions[o]) < p.begin + static_cast<std::size_t>(p.len)) {
        const int t = p.row0 + static_cast<int>(r.output_positions[o] - p.begin);
        layer_norm(x.data() + static_cast<std::size_t>(t) * C, r.out + o * C, C, ln_out_w_.data(),
                   ln_out_b_.data(), 1e-5f);
        ++o;
      }
    }
  }
}

}  // namespace rwkv

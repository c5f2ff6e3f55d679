// StateReranker: loading (layer selection, width checks) and scoring.
#include "pipeline/reranker.h"

#include <cmath>
#include <cstring>

#include "kernels/norm.h"
#include "model/x070_model.h"
#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv {

namespace {

std::vector<long> read_layer_index(const Checkpoint& ckpt) {
  const nlohmann::json& meta = ckpt.metadata();
  if (!meta.is_object() || !meta.contains("reranker_layer_idx")) return {};
  nlohmann::json v = meta["reranker_layer_idx"];
  if (v.is_string()) {  // safetensors metadata holds it as a JSON string
    v = nlohmann::json::parse(v.get<std::string>(), nullptr, false);
    if (v.is_discarded()) throw Error(str(ckpt.path(), ": metadata reranker_layer_idx is not valid JSON"));
  }
  if (!v.is_array()) throw Error(str(ckpt.path(), ": reranker_layer_idx must be a list of integers"));
  std::vector<long> out;
  for (const auto& e : v) {
    if (!e.is_number_integer())
      throw Error(str(ckpt.path(), ": reranker_layer_idx must be a list of integers"));
    out.push_back(e.get<long>());
  }
  return out;
}

}  // namespace

StateReranker::StateReranker(std::shared_ptr<const Checkpoint> ckpt, const X070Dims& backbone,
                             WeightPrecision precision)
    : ckpt_(ckpt) {
  const Checkpoint& c = *ckpt_;
  stack_ = load_x070_stack(c, "reranker.blocks.", precision);
  const X070Dims& d = stack_.dims;
  if (d.n_embd != backbone.n_embd || d.n_head != backbone.n_head || d.head_size != backbone.head_size)
    throw Error(str(c.path(), ": reranker width ", d.n_embd, " (", d.n_head, " heads of ", d.head_size,
                    ") does not match the embedding model's ", backbone.n_embd, " (", backbone.n_head,
                    " heads of ", backbone.head_size, ")"));
  const long C = d.n_embd;
  const std::vector<long> idx = read_layer_index(c);
  if (!idx.empty() && static_cast<int>(idx.size()) != n_blocks())
    throw Error(
        str(c.path(), ": reranker_layer_idx has ", idx.size(), " entries for ", n_blocks(), " blocks"));
  for (int b = 0; b < n_blocks(); ++b) {
    long l = idx.empty() ? b : idx[b];
    if (l < 0) l += backbone.n_layer;
    if (l < 0 || l >= backbone.n_layer)
      throw Error(str(c.path(), ": reranker block ", b, " reads embedding layer ", idx.empty() ? b : idx[b],
                      ", but the embedding model has ", backbone.n_layer, " layers"));
    layer_idx_.push_back(static_cast<int>(l));
  }
  const TensorView* emb = c.find("reranker.emb.weight");
  if (!emb) emb = c.find("reranker.token.weight");
  if (!emb) throw Error(str(c.path(), ": missing tensor reranker.emb.weight (or reranker.token.weight)"));
  if (emb->shape.size() != 2 || emb->shape[1] != C)
    throw Error(str(c.path(), ": tensor ", emb->name, " must be [1, ", C, "]"));
  x0_.resize(C);
  tensor_row_to_float(*emb, 0, x0_.data());
  layer_norm(x0_.data(), x0_.data(), static_cast<int>(C), stack_.ln0_w.data(), stack_.ln0_b.data(), 1e-5f);
  ln_out_w_ = load_vector(c, "reranker.ln_out.weight", C);
  ln_out_b_ = load_vector(c, "reranker.ln_out.bias", C);
  head0_w_ = load_vector(c, "reranker.head.0.weight", C * C);
  head0_b_ = load_vector(c, "reranker.head.0.bias", C);
  head2_w_ = load_vector(c, "reranker.head.2.weight", C);
}

std::vector<float> StateReranker::logits(std::span<const X070State* const> states, const KernelTable& kt,
                                         ThreadPool& pool, std::vector<float>* hidden) const {
  const X070Dims& d = stack_.dims;
  const int C = d.n_embd, B = static_cast<int>(states.size());
  if (B == 0) return {};
  const std::size_t head_state = static_cast<std::size_t>(d.n_head) * d.head_size * d.head_size;
  for (int i = 0; i < B; ++i)
    if (!states[i] || states[i]->n_embd != C || states[i]->n_head != d.n_head ||
        states[i]->wkv.size() < head_state * static_cast<std::size_t>(states[i]->n_layer))
      throw Error(str("rerank: state ", i, " does not come from a model matching this reranker"));
  AlignedVector<float> x(static_cast<std::size_t>(B) * C), v_first(x.size()), wkv(head_state * B);
  for (int i = 0; i < B; ++i)
    std::memcpy(x.data() + static_cast<std::size_t>(i) * C, x0_.data(), sizeof(float) * C);
  BlockWorkspace ws;
  ws.reserve(B, d);
  std::vector<BlockSegment> segs(B);
  for (int b = 0; b < n_blocks(); ++b) {
    for (int i = 0; i < B; ++i) {
      float* w = wkv.data() + head_state * i;
      std::memcpy(w, states[i]->wkv_layer(layer_idx_[b]), sizeof(float) * head_state);
      segs[i] = {i, 1, nullptr, nullptr, w};
    }
    x070_block_forward({kt, pool}, stack_.blocks[b], d, b, B, segs, x.data(), v_first.data(), ws);
  }
  std::vector<float> out(B), q(C);
  if (hidden) hidden->assign(static_cast<std::size_t>(B) * C, 0.0f);
  for (int i = 0; i < B; ++i) {
    layer_norm(x.data() + static_cast<std::size_t>(i) * C, q.data(), C, ln_out_w_.data(), ln_out_b_.data(),
               1e-5f);
    if (hidden) std::memcpy(hidden->data() + static_cast<std::size_t>(i) * C, q.data(), sizeof(float) * C);
    double logit = 0;
    for (int o = 0; o < C; ++o) {
      double s = head0_b_[o];
      for (int j = 0; j < C; ++j)
        s += static_cast<double>(head0_w_[static_cast<std::size_t>(o) * C + j]) * q[j];
      logit += std::tanh(s) * head2_w_[o];
    }
    out[i] = static_cast<float>(logit);
  }
  return out;
}

}  // namespace rwkv

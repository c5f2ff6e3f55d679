// StateReranker: EmbeddingRWKV's state-based reranker. Scores a (document, query) pair from the final
// WKV states of the embedding model: each reranker block b runs one token (its own learned input
// embedding) starting from the embedding model's WKV state of layer idx[b], then ln_out and a small
// head give a logit; score = sigmoid(logit). Immutable after loading.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "io/checkpoint.h"
#include "model/x070_block.h"
#include "model/x070_state.h"

namespace rwkv {

class StateReranker {
 public:
  // Loads keys under "reranker." (.pth or .safetensors). `backbone` gives the embedding model's
  // dimensions; a reranker of another width is rejected. Layer selection: reranker_layer_idx from the
  // pickle list or the safetensors metadata (a JSON string), negatives counted from the end; absent
  // means block b reads layer b.
  StateReranker(std::shared_ptr<const Checkpoint> ckpt, const X070Dims& backbone,
                WeightPrecision precision = WeightPrecision::F32);

  int n_blocks() const { return static_cast<int>(stack_.blocks.size()); }
  const std::vector<int>& layer_index() const { return layer_idx_; }

  // Logits for each state (only the WKV part is used). hidden (optional) receives ln_out rows [B, C].
  std::vector<float> logits(std::span<const X070State* const> states, const KernelTable& kt, ThreadPool& pool,
                            std::vector<float>* hidden = nullptr) const;

 private:
  std::shared_ptr<const Checkpoint> ckpt_;
  X070Stack stack_;
  std::vector<int> layer_idx_;
  std::vector<float> x0_;  // LN(emb[0]; ln0)
  std::vector<float> ln_out_w_, ln_out_b_, head0_w_, head0_b_, head2_w_;
};

inline float sigmoid_score(float logit) {
  return 1.0f / (1.0f + std::exp(-logit));
}

}  // namespace rwkv

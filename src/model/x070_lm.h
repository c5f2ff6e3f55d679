// X070LanguageModel: an RWKV-7 language model (BlinkDL World/G layout: un-prefixed keys plus head.weight)
// behind the LanguageModel interface. The backbone is the shared X070Model (prefix ""); the LM head turns
// the ln_out row of each sequence's last token into logits. Immutable after loading.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "model/language_model.h"
#include "model/x070_model.h"

namespace rwkv {

// The LmState of an x070 language model: the backbone's state.
class X070LmState : public LmState {
 public:
  explicit X070LmState(X070State s) : state(std::move(s)) {}
  std::unique_ptr<LmState> clone() const override { return std::make_unique<X070LmState>(*this); }
  X070State state;
};

class X070LanguageModel : public LanguageModel {
 public:
  // Throws rwkv::Error naming the file and tensor if head.weight is missing or not [vocab, n_embd].
  X070LanguageModel(std::shared_ptr<const Checkpoint> ckpt, WeightPrecision precision = WeightPrecision::F32,
                    int chunk_tokens = 256);

  std::string arch() const override { return "x070"; }
  int vocab_size() const override { return backbone_.vocab_size(); }
  std::unique_ptr<LmState> zero_state() const override {
    return std::make_unique<X070LmState>(backbone_.zero_state());
  }
  void forward_batch(std::span<LmRequest> batch, const KernelTable& kt, ThreadPool& pool) const override;
  LmCost cost_per_token() const override;

  const X070Model& backbone() const { return backbone_; }
  // logits [m, vocab] = head · ln_out rows [m, n_embd]; each row's result is independent of m.
  void head_logits(int m, const float* ln_out_rows, float* logits, const KernelTable& kt,
                   ThreadPool& pool) const;

 private:
  std::shared_ptr<const Checkpoint> ckpt_;
  X070Model backbone_;
  PackedMatrix head_;
  int chunk_tokens_;
};

}  // namespace rwkv

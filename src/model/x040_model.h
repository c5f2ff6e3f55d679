// X040Model: an RWKV-4 language model (RWKV-4-Pile `.pth` / safetensors layout) behind the LanguageModel
// interface. Sequence mode runs every projection as one GEMM over all tokens of a chunk of the ragged
// batch; a one-token decode step is the same path with one row per sequence. Logits come from head.weight
// only for the positions asked for. Immutable after loading; share it between threads freely (each
// forward call needs its own pool use: callers serialise on the pool).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "model/language_model.h"
#include "model/x040_block.h"
#include "model/x040_state.h"
#include "model/x040_weights.h"

namespace rwkv {

// One sequence of a ragged batch for X040Model::forward_sequences. Its state is read and advanced in
// place. For the i-th entry of `output_positions` (ascending, < tokens.size()), the logits after that
// token are written to logits + i*vocab and/or the ln_out row to hidden + i*D (either may be null).
struct X040Request {
  std::span<const TokenId> tokens;
  X040State* state = nullptr;
  std::span<const int> output_positions;
  float* logits = nullptr;
  float* hidden = nullptr;
};

class X040Model : public LanguageModel {
 public:
  // chunk_tokens: tokens of the whole batch processed per step (bounds memory; results do not depend on it).
  explicit X040Model(std::shared_ptr<const Checkpoint> ckpt, WeightPrecision precision = WeightPrecision::F32,
                     int chunk_tokens = 256);

  std::string arch() const override { return "x040"; }
  int vocab_size() const override { return w_.dims.vocab; }
  std::unique_ptr<LmState> zero_state() const override { return std::make_unique<X040State>(w_.dims); }
  void forward_batch(std::span<LmRequest> batch, const KernelTable& kt, ThreadPool& pool) const override;
  LmCost cost_per_token() const override;

  const X040Dims& dims() const { return w_.dims; }
  WeightPrecision precision() const { return precision_; }
  X040State zero_x040_state() const { return X040State(w_.dims); }

  // Runs every sequence, `chunk_tokens` tokens of the batch at a time. Results per sequence are independent
  // of the batch composition, chunk_tokens and thread count, bit for bit. Throws rwkv::Error for token ids
  // outside the vocabulary, a state of another shape or bad output positions.
  void forward_sequences(std::span<X040Request> batch, const KernelTable& kt, ThreadPool& pool,
                         int chunk_tokens, const ResidualTrace* trace = nullptr) const;

 private:
  void embed_row(TokenId id, float* out) const;

  std::shared_ptr<const Checkpoint> ckpt_;
  const TensorView* emb_ = nullptr;
  X040Weights w_;
  WeightPrecision precision_;
  int chunk_tokens_;
};

}  // namespace rwkv

// LanguageModel: the interface generation and `rwkv logits` use, shared by the RWKV-4 (x040) and RWKV-7
// (x070 with head.weight) language models. A model is immutable after loading and may be shared between
// threads; each LmState belongs to one sequence.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "kernels/dispatch.h"
#include "kernels/gemm.h"
#include "util/thread_pool.h"

namespace rwkv {

using TokenId = std::int32_t;

// The recurrent state of one sequence (opaque to callers; each architecture defines its own).
class LmState {
 public:
  virtual ~LmState() = default;
  virtual std::unique_ptr<LmState> clone() const = 0;
};

// One sequence of a ragged batch for LanguageModel::forward_batch. The state is advanced in place; when
// `logits` is non-null, the logits after the last token (vocab_size floats) are written there.
struct LmRequest {
  std::span<const TokenId> tokens;
  LmState* state = nullptr;
  float* logits = nullptr;
};

// Work of one token, for benchmarks: FLOPs of the block projections and of the LM head (2 per multiply-add),
// and the bytes of packed weights a decode step reads (every matrix once, the head, one embedding row).
struct LmCost {
  double block_flops = 0;
  double head_flops = 0;
  double weight_bytes = 0;
};

class LanguageModel {
 public:
  virtual ~LanguageModel() = default;
  virtual std::string arch() const = 0;  // "x040" or "x070"
  virtual int vocab_size() const = 0;
  virtual std::unique_ptr<LmState> zero_state() const = 0;
  // Runs every request; results per sequence do not depend on the batch, on chunking or on how the
  // prompt was split into calls. Throws rwkv::Error on an out-of-range token id or a state of another
  // model.
  virtual void forward_batch(std::span<LmRequest> batch, const KernelTable& kt, ThreadPool& pool) const = 0;
  virtual LmCost cost_per_token() const = 0;

  // Convenience: one sequence; `logits` may be null.
  void forward(std::span<const TokenId> tokens, LmState& state, float* logits, const KernelTable& kt,
               ThreadPool& pool) const {
    LmRequest r{tokens, &state, logits};
    forward_batch(std::span<LmRequest>(&r, 1), kt, pool);
  }
};

// Loads an RWKV-4 or RWKV-7 language model (detected from the tensor names); throws rwkv::Error naming
// the problem for anything else. chunk_tokens bounds the tokens processed per step (memory), never the
// results.
std::unique_ptr<LanguageModel> load_language_model(std::shared_ptr<const Checkpoint> ckpt,
                                                   WeightPrecision precision, int chunk_tokens = 256);

}  // namespace rwkv

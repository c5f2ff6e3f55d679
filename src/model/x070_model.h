// X070Model: the RWKV-7 backbone (embedding table + blocks + ln_out) of an EmbeddingRWKV checkpoint
// (keys under "rwkv.") or an RWKV-7 language model (un-prefixed keys). Immutable after loading and safe
// to share between threads; each forward() call needs its own ThreadPool use (callers serialise).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "io/tensor_rows.h"
#include "kernels/dispatch.h"
#include "model/x070_block.h"
#include "model/x070_state.h"
#include "model/x070_weights.h"
#include "util/thread_pool.h"

namespace rwkv {

using TokenId = std::int32_t;

// One sequence of a ragged batch. Its state is read and updated in place. For each position in
// `output_positions` (ascending, < tokens.size()), the ln_out row is written to out + i*C.
struct SequenceRequest {
  std::span<const TokenId> tokens;
  X070State* state = nullptr;
  std::span<const int> output_positions;
  float* out = nullptr;
};

class X070Model {
 public:
  // prefix: "rwkv." for EmbeddingRWKV, "" for language models.
  X070Model(std::shared_ptr<const Checkpoint> ckpt, const std::string& prefix,
            WeightPrecision precision = WeightPrecision::F32);
  WeightPrecision precision() const { return precision_; }

  const X070Dims& dims() const { return stack_.dims; }
  int vocab_size() const { return vocab_; }
  std::uint64_t fingerprint() const { return fingerprint_; }
  X070State zero_state() const { return X070State(stack_.dims); }
  const Checkpoint& checkpoint() const { return *ckpt_; }

  // Runs every sequence through the model, `chunk_tokens` tokens of the whole batch at a time (memory
  // is bounded by the chunk, not the sequence length). Results per sequence are independent of the
  // batch composition and of chunk_tokens, bit for bit. Throws rwkv::Error for token ids >= vocab.
  void forward(std::span<SequenceRequest> batch, const KernelTable& kt, ThreadPool& pool,
               int chunk_tokens = 256, const ResidualTrace* trace = nullptr) const;

 private:
  void embed_row(TokenId id, float* out) const;

  std::shared_ptr<const Checkpoint> ckpt_;
  const TensorView* emb_ = nullptr;
  X070Stack stack_;
  std::vector<float> ln_out_w_, ln_out_b_;
  int vocab_ = 0;
  WeightPrecision precision_ = WeightPrecision::F32;
  std::uint64_t fingerprint_ = 0;
};

// Fingerprint of a checkpoint's tensors under `prefix`: names, shapes, dtypes and a sample of values.
std::uint64_t checkpoint_fingerprint(const Checkpoint& ckpt, const std::string& prefix);

}  // namespace rwkv

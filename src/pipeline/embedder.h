// Embedder: EmbeddingRWKV sentence embeddings. Runs the x070 backbone over ragged batches, mean-pools
// ln_out at every EOS (65535) position, applies a task head ([RETR], [STS], [CLS]) and optionally L2
// normalises. Thread-compatible: const methods may run concurrently only with separate pools.
#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "io/checkpoint.h"
#include "kernels/gemm.h"
#include "model/x070_model.h"

namespace rwkv {

enum class Task { Retr, Sts, Cls };
Task parse_task(std::string_view name);  // "retr"|"sts"|"cls", also "[RETR]" etc.; throws rwkv::Error
std::string_view task_name(Task t);      // "[RETR]", ...

struct EmbedInput {
  std::span<const TokenId> tokens;  // the model's input, EOS tokens included
  X070State* state = nullptr;       // optional: start from (and update) this state; else zero state
};

class Embedder {
 public:
  explicit Embedder(std::shared_ptr<const Checkpoint> ckpt, WeightPrecision precision = WeightPrecision::F32);

  const X070Model& model() const { return model_; }
  int dim() const { return model_.dims().n_embd; }

  // Pooled features (before the head) for each input. Throws rwkv::Error naming the input if it has
  // no EOS token. If eos_hidden is given, it receives every EOS position's ln_out row per input.
  std::vector<std::vector<float>> features(std::span<const EmbedInput> inputs, const KernelTable& kt,
                                           ThreadPool& pool,
                                           std::vector<std::vector<float>>* eos_hidden = nullptr,
                                           int chunk_tokens = 256) const;
  // e = LN(p + relu(p fc1ᵀ) fc2ᵀ), in place on each pooled C-vector (the batch runs as two GEMMs on the
  // pool; a vector's result does not depend on the others). Throws rwkv::Error on a vector not of size C.
  void apply_head(Task task, std::span<std::vector<float>> vecs, const KernelTable& kt,
                  ThreadPool& pool) const;
  std::vector<std::vector<float>> embed(std::span<const EmbedInput> inputs, Task task, bool normalize,
                                        const KernelTable& kt, ThreadPool& pool,
                                        int chunk_tokens = 256) const;

 private:
  struct Head {
    PackedMatrix fc1, fc2;  // fp32 Linear weights [C, C] (heads stay fp32 in every precision mode)
    std::vector<float> norm_w, norm_b;
  };
  std::shared_ptr<const Checkpoint> ckpt_;
  X070Model model_;
  Head heads_[3];
};

void l2_normalize(std::span<float> v);

}  // namespace rwkv

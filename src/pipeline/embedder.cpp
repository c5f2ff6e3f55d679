// Embedder: EOS pooling and task heads.
#include "pipeline/embedder.h"

#include <algorithm>
#include <cmath>

#include "kernels/norm.h"
#include "pipeline/preprocess.h"
#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv {

Task parse_task(std::string_view name) {
  if (name == "retr" || name == "[RETR]" || name == "RETR") return Task::Retr;
  if (name == "sts" || name == "[STS]" || name == "STS") return Task::Sts;
  if (name == "cls" || name == "[CLS]" || name == "CLS") return Task::Cls;
  throw Error(str("unknown task '", name, "' (expected retr, sts or cls)"));
}

std::string_view task_name(Task t) {
  switch (t) {
    case Task::Retr:
      return "[RETR]";
    case Task::Sts:
      return "[STS]";
    case Task::Cls:
      return "[CLS]";
  }
  return "?";
}

void l2_normalize(std::span<float> v) {
  double ss = 0;
  for (float x : v) ss += static_cast<double>(x) * x;
  const float inv = static_cast<float>(1.0 / std::max(std::sqrt(ss), 1e-12));
  for (float& x : v) x *= inv;
}

Embedder::Embedder(std::shared_ptr<const Checkpoint> ckpt, WeightPrecision precision)
    : ckpt_(ckpt), model_(ckpt, "rwkv.", precision) {
  const long C = model_.dims().n_embd;
  const char* names[3] = {"head.retr_head.", "head.sts_head.", "head.cls_head."};
  for (int i = 0; i < 3; ++i) {
    const std::string p = names[i];
    auto square = [&](const std::string& name) {
      const TensorView& t = ckpt_->get(name);
      if (t.shape.size() != 2 || t.shape[0] != C || t.shape[1] != C)
        throw Error(str(ckpt_->path(), ": tensor ", name, " must be [", C, ", ", C, "]"));
      return PackedMatrix::from_linear(t);
    };
    heads_[i].fc1 = square(p + "fc1.weight");
    heads_[i].fc2 = square(p + "fc2.weight");
    heads_[i].norm_w = load_vector(*ckpt_, p + "norm.weight", C);
    heads_[i].norm_b = load_vector(*ckpt_, p + "norm.bias", C);
  }
}

std::vector<std::vector<float>> Embedder::features(std::span<const EmbedInput> inputs, const KernelTable& kt,
                                                   ThreadPool& pool,
                                                   std::vector<std::vector<float>>* eos_hidden,
                                                   int chunk_tokens) const {
  const int C = dim();
  if (inputs.empty()) throw Error("no inputs to embed");
  std::vector<std::vector<int>> positions(inputs.size());
  std::vector<std::vector<float>> hidden(inputs.size());
  std::vector<X070State> own_states;
  own_states.reserve(inputs.size());
  std::vector<SequenceRequest> batch(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    for (std::size_t t = 0; t < inputs[i].tokens.size(); ++t)
      if (inputs[i].tokens[t] == kEos) positions[i].push_back(static_cast<int>(t));
    if (positions[i].empty())
      throw Error(str("input ", i,
                      " has no EOS token (65535): nothing to pool (append one, or use a policy that does)"));
    hidden[i].resize(positions[i].size() * C);
    X070State* st = inputs[i].state;
    if (!st) st = &own_states.emplace_back(model_.zero_state());
    batch[i] = {inputs[i].tokens, st, positions[i], hidden[i].data()};
  }
  model_.forward(batch, kt, pool, chunk_tokens);
  std::vector<std::vector<float>> out(inputs.size(), std::vector<float>(C, 0.0f));
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const std::size_t n = positions[i].size();
    for (int c = 0; c < C; ++c) {
      double s = 0;
      for (std::size_t e = 0; e < n; ++e) s += hidden[i][e * C + c];
      out[i][c] = static_cast<float>(s / static_cast<double>(n));
    }
  }
  if (eos_hidden) *eos_hidden = std::move(hidden);
  return out;
}

void Embedder::apply_head(Task task, std::span<std::vector<float>> vecs, const KernelTable& kt,
                          ThreadPool& pool) const {
  if (vecs.empty()) return;
  const Head& h = heads_[static_cast<int>(task)];
  const std::size_t C = static_cast<std::size_t>(dim());
  const int M = static_cast<int>(vecs.size());
  AlignedVector<float> p(vecs.size() * C), mid(p.size());
  for (std::size_t i = 0; i < vecs.size(); ++i) {
    if (vecs[i].size() != C)
      throw Error(str("embedding head: vector ", i, " has ", vecs[i].size(), " values, not ", C));
    std::copy(vecs[i].begin(), vecs[i].end(), p.begin() + static_cast<std::ptrdiff_t>(i * C));
  }
  gemm(kt, pool, M, p.data(), C, h.fc1, mid.data(), C);
  for (float& x : mid) x = std::max(x, 0.0f);
  gemm(kt, pool, M, mid.data(), C, h.fc2, p.data(), C, nullptr, Epilogue::Accumulate);  // p + relu(.) fc2ᵀ
  for (std::size_t i = 0; i < vecs.size(); ++i)
    layer_norm(p.data() + i * C, vecs[i].data(), static_cast<int>(C), h.norm_w.data(), h.norm_b.data(),
               1e-5f);
}

std::vector<std::vector<float>> Embedder::embed(std::span<const EmbedInput> inputs, Task task, bool normalize,
                                                const KernelTable& kt, ThreadPool& pool,
                                                int chunk_tokens) const {
  auto out = features(inputs, kt, pool, nullptr, chunk_tokens);
  apply_head(task, out, kt, pool);
  if (normalize)
    for (auto& v : out) l2_normalize(v);
  return out;
}

}  // namespace rwkv

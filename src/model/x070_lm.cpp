// X070LanguageModel: the RWKV-7 backbone plus the LM head.
#include "model/x070_lm.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "model/x070_cost.h"
#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv {

namespace {
constexpr int kHeadRows = 64;  // rows per head GEMM (bounds the logits scratch)

const TensorView& lm_head(const Checkpoint& ckpt, int vocab, int n_embd) {
  const TensorView& h = ckpt.get("head.weight");
  if (h.shape.size() != 2 || h.shape[0] != vocab || h.shape[1] != n_embd)
    throw Error(str(ckpt.path(), ": tensor head.weight must be [", vocab, ", ", n_embd,
                    "] (vocab from emb.weight, n_embd from the blocks)"));
  return h;
}
}  // namespace

X070LanguageModel::X070LanguageModel(std::shared_ptr<const Checkpoint> ckpt, WeightPrecision precision,
                                     int chunk_tokens)
    : ckpt_(ckpt),
      backbone_(ckpt, "", precision),
      head_(PackedMatrix::from_linear(lm_head(*ckpt, backbone_.vocab_size(), backbone_.dims().n_embd),
                                      precision)),
      chunk_tokens_(std::max(chunk_tokens, 1)) {
  ckpt_->drop_pages(ckpt_->get("head.weight"));  // packed now; the mapped bytes can leave memory
}

void X070LanguageModel::head_logits(int m, const float* ln_out_rows, float* logits, const KernelTable& kt,
                                    ThreadPool& pool) const {
  const std::size_t C = static_cast<std::size_t>(backbone_.dims().n_embd);
  GemmScratch scratch;
  gemm(kt, pool, m, ln_out_rows, C, head_, logits, static_cast<std::size_t>(vocab_size()), &scratch);
}

void X070LanguageModel::forward_batch(std::span<LmRequest> batch, const KernelTable& kt,
                                      ThreadPool& pool) const {
  const std::size_t C = static_cast<std::size_t>(backbone_.dims().n_embd);
  const std::size_t V = static_cast<std::size_t>(vocab_size());
  std::vector<SequenceRequest> reqs(batch.size());
  std::vector<int> last(batch.size());
  std::vector<std::size_t> with_logits;  // batch indices that want logits, in order
  for (std::size_t b = 0; b < batch.size(); ++b) {
    const LmRequest& r = batch[b];
    auto* st = dynamic_cast<X070LmState*>(r.state);
    if (!st || !st->state.matches(backbone_.dims()))
      throw Error(str("sequence ", b, ": the state does not belong to this RWKV-7 model"));
    if (r.logits && r.tokens.empty())
      throw Error(str("sequence ", b, ": logits requested for an empty token list"));
    reqs[b] = {r.tokens, &st->state, {}, nullptr};
    if (r.logits) {
      last[b] = static_cast<int>(r.tokens.size()) - 1;
      with_logits.push_back(b);
    }
  }
  AlignedVector<float> normed(with_logits.size() * C);
  for (std::size_t i = 0; i < with_logits.size(); ++i) {
    const std::size_t b = with_logits[i];
    reqs[b].output_positions = std::span<const int>(&last[b], 1);
    reqs[b].out = normed.data() + i * C;
  }
  // A chunk no larger than the batch: the backbone sizes its buffers by it (results do not depend on it).
  std::size_t total = 0;
  for (const LmRequest& r : batch) total += r.tokens.size();
  const int chunk = static_cast<int>(
      std::min<std::size_t>(static_cast<std::size_t>(chunk_tokens_), std::max<std::size_t>(total, 1)));
  backbone_.forward(reqs, kt, pool, chunk);
  AlignedVector<float> logits;
  for (std::size_t g = 0; g < with_logits.size(); g += kHeadRows) {
    const int m = static_cast<int>(std::min<std::size_t>(kHeadRows, with_logits.size() - g));
    logits.resize(static_cast<std::size_t>(m) * V);
    head_logits(m, normed.data() + g * C, logits.data(), kt, pool);
    for (int i = 0; i < m; ++i)
      std::memcpy(batch[with_logits[g + i]].logits, logits.data() + i * V, sizeof(float) * V);
  }
}

LmCost X070LanguageModel::cost_per_token() const {
  const X070Dims& d = backbone_.dims();
  LmCost c;
  c.block_flops = x070_cost_per_token(d).matmul_flops;
  c.head_flops = 2.0 * head_.K() * head_.N();
  // The backbone packs its matrices like the head: take the head's bytes per weight for all of them.
  const double bytes_per_weight =
      static_cast<double>(head_.bytes()) / (static_cast<double>(head_.K()) * head_.N());
  c.weight_bytes = x070_weight_bytes_per_token(d, bytes_per_weight) + static_cast<double>(head_.bytes());
  return c;
}

}  // namespace rwkv

// Helpers shared by the language-model golden tests (RWKV-4 in test_x040_*.cpp, RWKV-7 LM in
// test_x070_lm_*.cpp): the golden models loaded once per binary, checkpoint copies (re-typed or edited),
// greedy decoding and softmax top-k.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "golden_fixture.h"
#include "io/named_tensor.h"
#include "model/x040_model.h"
#include "model/x070_lm.h"

namespace rwkv::test {

struct X040Golden {
  nlohmann::json manifest;
  std::shared_ptr<const Checkpoint> ckpt;
  std::unique_ptr<X040Model> model;  // fp32 weights
};
const X040Golden& x040_golden();  // shared/golden/rwkv4, loaded on first use

struct X070LmGolden {
  nlohmann::json manifest;
  std::shared_ptr<const Checkpoint> ckpt;
  std::unique_ptr<X070LanguageModel> model;  // fp32 weights
};
const X070LmGolden& x070_lm_golden();  // shared/golden/x070-lm

// Writes a .pth copy of `src` with every tensor passed through `edit` (which may rename it, change its
// shape, or return false to drop it). With to_f32 every float tensor is stored as fp32.
using TensorEdit = std::function<bool(NamedTensor&)>;
void write_copy(const Checkpoint& src, const std::filesystem::path& out, bool to_f32,
                const TensorEdit& edit = nullptr, const nlohmann::json& metadata = nlohmann::json::object());

// The message of the rwkv::Error thrown by fn, or "" if it did not throw one.
std::string error_of(const std::function<void()>& fn);

int argmax(const std::vector<float>& v);
// Softmax (in double) over all entries; the k most probable ids and their probabilities.
void top_k(const std::vector<float>& logits, int k, std::vector<int>& ids, std::vector<double>& probs);

// Greedy decoding: feeds `prompt`, then `n` times takes the argmax and feeds it back (one call per token).
std::vector<TokenId> greedy(const LanguageModel& lm, const std::vector<TokenId>& prompt, int n,
                            const KernelTable& kt, ThreadPool& pool);

// For each item of a golden manifest's "greedy" section: expects the greedy continuation of its prompt
// (n_generate tokens) and the five most probable first tokens, with their probabilities within prob_tol.
void expect_greedy_and_top5(const LanguageModel& lm, const nlohmann::json& spec, double prob_tol,
                            const KernelTable& kt, ThreadPool& pool);

}  // namespace rwkv::test

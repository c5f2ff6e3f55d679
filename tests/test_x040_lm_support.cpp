// Implementation of the language-model test helpers.
#include "test_x040_lm_support.h"

#include <cmath>
#include <fstream>
#include <numeric>

#include "io/pth_writer.h"
#include "rwkv/error.h"

namespace rwkv::test {

namespace {
nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}
}  // namespace

const X040Golden& x040_golden() {
  static std::unique_ptr<X040Golden> g;
  if (!g) {
    auto m = std::make_unique<X040Golden>();
    m->manifest = read_json(golden("rwkv4/manifest.json"));
    m->ckpt =
        std::make_shared<const Checkpoint>(Checkpoint::open(golden("rwkv4/rwkv4-pile-random.bf16.pth")));
    m->model = std::make_unique<X040Model>(m->ckpt);
    g = std::move(m);
  }
  return *g;
}

const X070LmGolden& x070_lm_golden() {
  static std::unique_ptr<X070LmGolden> g;
  if (!g) {
    auto m = std::make_unique<X070LmGolden>();
    m->manifest = read_json(golden("x070-lm/manifest.json"));
    m->ckpt =
        std::make_shared<const Checkpoint>(Checkpoint::open(golden("x070-lm/rwkv7-lm-random.bf16.pth")));
    m->model = std::make_unique<X070LanguageModel>(m->ckpt);
    g = std::move(m);
  }
  return *g;
}

void write_copy(const Checkpoint& src, const std::filesystem::path& out, bool to_f32, const TensorEdit& edit,
                const nlohmann::json& metadata) {
  std::vector<std::vector<float>> converted;
  converted.reserve(src.tensors().size());
  std::vector<NamedTensor> tensors;
  for (const TensorView& t : src.tensors()) {
    NamedTensor n{t.name, t.dtype, t.shape, {}};
    if (to_f32) {
      converted.push_back(t.to_float());
      n.dtype = DType::F32;
      n.data = std::as_bytes(std::span<const float>(converted.back()));
    } else {
      n.data = std::span<const std::byte>(t.data, static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype));
    }
    if (edit && !edit(n)) continue;
    tensors.push_back(std::move(n));
  }
  PthWriteOptions o;
  o.folder = out.stem().string();
  write_pth(out, tensors, metadata, o);
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

int argmax(const std::vector<float>& v) {
  int best = 0;
  for (std::size_t i = 1; i < v.size(); ++i)
    if (v[i] > v[best]) best = static_cast<int>(i);
  return best;
}

void top_k(const std::vector<float>& logits, int k, std::vector<int>& ids, std::vector<double>& probs) {
  const double mx = logits[argmax(logits)];
  double z = 0;
  for (float x : logits) z += std::exp(x - mx);
  std::vector<int> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](int a, int b) { return logits[a] > logits[b]; });
  ids.assign(order.begin(), order.begin() + k);
  probs.clear();
  for (int id : ids) probs.push_back(std::exp(logits[id] - mx) / z);
}

std::vector<TokenId> greedy(const LanguageModel& lm, const std::vector<TokenId>& prompt, int n,
                            const KernelTable& kt, ThreadPool& pool) {
  auto state = lm.zero_state();
  std::vector<float> logits(static_cast<std::size_t>(lm.vocab_size()));
  lm.forward(prompt, *state, logits.data(), kt, pool);
  std::vector<TokenId> out;
  for (int i = 0; i < n; ++i) {
    const TokenId next = argmax(logits);
    out.push_back(next);
    lm.forward({&next, 1}, *state, logits.data(), kt, pool);
  }
  return out;
}

void expect_greedy_and_top5(const LanguageModel& lm, const nlohmann::json& spec, double prob_tol,
                            const KernelTable& kt, ThreadPool& pool) {
  const int n = spec["n_generate"].get<int>();
  ASSERT_FALSE(spec["items"].empty()) << "the manifest's greedy section has no items";
  for (const auto& [name, it] : spec["items"].items()) {
    SCOPED_TRACE(name);
    const auto prompt = ids_of(it["prompt_ids"]);
    EXPECT_EQ(greedy(lm, prompt, n, kt, pool), ids_of(it["generated_ids"]));
    auto st = lm.zero_state();
    std::vector<float> logits(static_cast<std::size_t>(lm.vocab_size()));
    lm.forward(prompt, *st, logits.data(), kt, pool);
    std::vector<int> ids;
    std::vector<double> probs;
    top_k(logits, 5, ids, probs);
    EXPECT_EQ(ids, it["first_step_top5_ids"].get<std::vector<int>>());
    const auto want = it["first_step_top5_probs"].get<std::vector<double>>();
    ASSERT_EQ(want.size(), 5u);
    for (int i = 0; i < 5; ++i) EXPECT_NEAR(probs[i], want[i], prob_tol) << "rank " << i;
  }
}

}  // namespace rwkv::test

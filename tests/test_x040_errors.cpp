// Language-model loading and input errors: bad RWKV-4 / RWKV-7 LM checkpoints (missing tensor, wrong shape,
// converted or non-LM files) and bad requests give rwkv::Error messages naming the tensor or input.
#include "model/synth.h"
#include "test_x040_lm_support.h"

namespace rwkv::test {
namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

std::string load_error(const std::filesystem::path& path) {
  return error_of([&] {
    auto ckpt = std::make_shared<const Checkpoint>(Checkpoint::open(path));
    load_language_model(ckpt, WeightPrecision::F32);
  });
}

TEST(X040Errors, MissingTensorIsNamed) {
  const auto& g = x040_golden();
  TempDir tmp;
  for (const std::string name : {"blocks.1.att.key.weight", "blocks.2.ffn.time_mix_r", "blocks.0.ln0.bias",
                                 "ln_out.weight", "blocks.0.att.time_first"}) {
    const auto path = tmp.path() / "missing.pth";
    write_copy(*g.ckpt, path, false, [&](NamedTensor& t) { return t.name != name; });
    const std::string e = load_error(path);
    EXPECT_TRUE(contains(e, name)) << "dropped " << name << ", got: " << e;
  }
}

TEST(X040Errors, WrongShapeIsNamed) {
  const auto& g = x040_golden();
  TempDir tmp;
  const auto path = tmp.path() / "shape.pth";
  // ffn.value.weight stored transposed ([4C, C] instead of [C, 4C]).
  write_copy(*g.ckpt, path, false, [](NamedTensor& t) {
    if (t.name == "blocks.1.ffn.value.weight") std::swap(t.shape[0], t.shape[1]);
    return true;
  });
  std::string e = load_error(path);
  EXPECT_TRUE(contains(e, "blocks.1.ffn.value.weight")) << e;
  // A head with another vocabulary than the embedding.
  write_copy(*g.ckpt, path, false, [](NamedTensor& t) {
    if (t.name == "head.weight") {
      t.shape[0] -= 1;
      t.data = t.data.first(t.data.size() - static_cast<std::size_t>(t.shape[1]) * 2);
    }
    return true;
  });
  e = load_error(path);
  EXPECT_TRUE(contains(e, "head.weight")) << e;
  // A per-channel vector of the wrong length.
  write_copy(*g.ckpt, path, false, [](NamedTensor& t) {
    if (t.name == "blocks.2.att.time_decay") {
      t.shape = {64};
      t.data = t.data.first(64 * 2);
    }
    return true;
  });
  e = load_error(path);
  EXPECT_TRUE(contains(e, "blocks.2.att.time_decay")) << e;
}

TEST(X040Errors, ConvertedAndNonLanguageModelsAreRefused) {
  const auto& g = x040_golden();
  TempDir tmp;
  const auto path = tmp.path() / "converted.pth";
  write_copy(*g.ckpt, path, false, nullptr, {{"_strategy", "cpu fp32"}, {"_version", "0.7"}});
  EXPECT_TRUE(contains(load_error(path), "ChatRWKV-converted")) << load_error(path);
  // An RWKV-5-style key in an otherwise RWKV-4 file.
  const auto v5 = tmp.path() / "v5.pth";
  write_copy(*g.ckpt, v5, false, [](NamedTensor& t) {
    if (t.name == "blocks.0.att.time_first") t.name = "blocks.0.att.time_faaaa";
    return true;
  });
  EXPECT_FALSE(load_error(v5).empty());
  // EmbeddingRWKV models have no LM head.
  const std::string e = load_error(golden("emb-model.bf16.pth"));
  EXPECT_TRUE(contains(e, "not a language model")) << e;
  EXPECT_TRUE(contains(e, "x070-embedding")) << e;
  // An RWKV-7 LM without its head is not a language model either.
  const auto headless = tmp.path() / "headless.pth";
  write_copy(*x070_lm_golden().ckpt, headless, false, [](NamedTensor& t) { return t.name != "head.weight"; });
  EXPECT_TRUE(contains(load_error(headless), "not a language model")) << load_error(headless);
}

TEST(X040Errors, BadRequests) {
  ThreadPool pool(1);
  const KernelTable& kt = kernels_for(select_isa());
  const auto& g = x040_golden();
  const LanguageModel& v4 = *g.model;
  const LanguageModel& v7 = *x070_lm_golden().model;
  std::vector<float> logits(static_cast<std::size_t>(std::max(v4.vocab_size(), v7.vocab_size())));
  for (const LanguageModel* lm : {&v4, &v7}) {
    SCOPED_TRACE(lm->arch());
    auto st = lm->zero_state();
    const std::vector<TokenId> bad = {1, lm->vocab_size()}, negative = {-1};
    EXPECT_TRUE(contains(error_of([&] { lm->forward(bad, *st, logits.data(), kt, pool); }),
                         "outside the vocabulary"));
    EXPECT_TRUE(contains(error_of([&] { lm->forward(negative, *st, nullptr, kt, pool); }), "token id -1"));
    EXPECT_TRUE(
        contains(error_of([&] { lm->forward({}, *st, logits.data(), kt, pool); }), "empty token list"));
    EXPECT_EQ(error_of([&] { lm->forward({}, *st, nullptr, kt, pool); }), "");  // nothing to do
  }
  auto v7_state = v7.zero_state();
  const std::vector<TokenId> one = {5};
  EXPECT_TRUE(contains(error_of([&] { v4.forward(one, *v7_state, nullptr, kt, pool); }), "does not belong"));
  auto v4_state = v4.zero_state();
  EXPECT_TRUE(contains(error_of([&] { v7.forward(one, *v4_state, nullptr, kt, pool); }), "does not belong"));
  // A state of an RWKV-4 model with other dimensions.
  TempDir tmp;
  SynthSpec s;
  s.kind = "x040-lm", s.layers = 2, s.embd = 64, s.vocab = 300;
  const auto small = tmp.path() / "small.safetensors";
  write_synthetic_model(s, small);
  auto small_lm =
      load_language_model(std::make_shared<const Checkpoint>(Checkpoint::open(small)), WeightPrecision::F32);
  EXPECT_EQ(small_lm->arch(), "x040");
  EXPECT_EQ(small_lm->vocab_size(), 300);
  EXPECT_TRUE(
      contains(error_of([&] { small_lm->forward(one, *v4_state, nullptr, kt, pool); }), "does not belong"));
}

}  // namespace
}  // namespace rwkv::test

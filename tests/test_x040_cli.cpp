// `rwkv logits`: logits after the last token for RWKV-4 and RWKV-7 language models, in both precisions,
// and JSON errors for bad input.
#include <fstream>

#include <nlohmann/json.hpp>

#include "test_x040_lm_support.h"
#include "util/strcat.h"

namespace rwkv::test {
namespace {

std::string tokens_flag(const nlohmann::json& ids) {
  std::string s;
  for (const auto& id : ids) {
    if (!s.empty()) s += ',';
    s += std::to_string(id.get<int>());
  }
  return s;
}

TEST(LogitsCli, MatchesGoldenForBothArchitectures) {
  struct Case {
    const char* model;
    const char* logits;
    const char* manifest;
    const char* arch;
  };
  for (const Case c :
       {Case{"rwkv4/rwkv4-pile-random.bf16.pth", "rwkv4/prompts/logits.npy", "rwkv4/manifest.json", "x040"},
        Case{"x070-lm/rwkv7-lm-random.bf16.pth", "x070-lm/prompts/logits.npy", "x070-lm/manifest.json",
             "x070"}}) {
    SCOPED_TRACE(c.model);
    std::ifstream in(golden(c.manifest));
    const auto manifest = nlohmann::json::parse(in);
    const auto& item = manifest["prompts"]["items"][0];
    const auto r = run_cli(str("logits --threads 2 --model '", golden(c.model).string(), "' --tokens ",
                               tokens_flag(item["ids"])));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["arch"], c.arch);
    EXPECT_EQ(j["n_tokens"], item["ids"].size());
    EXPECT_EQ(j["argmax"], item["argmax"]);
    const auto got = j["logits"].get<std::vector<float>>();
    EXPECT_TRUE(AllClose(got, row_of(load_npy(golden(c.logits)), 0), 2e-4));
    // bf16 mode: same argmax on this prompt (top-1 leads by > 1.2 logits), small error.
    const auto b = run_cli(str("logits --precision bf16 --model '", golden(c.model).string(), "' --tokens ",
                               tokens_flag(item["ids"])));
    ASSERT_EQ(b.exit_code, 0) << b.err;
    const auto jb = nlohmann::json::parse(b.out);
    EXPECT_EQ(jb["argmax"], item["argmax"]);
    EXPECT_TRUE(AllClose(jb["logits"].get<std::vector<float>>(), got, 0.2));
  }
}

TEST(LogitsCli, ErrorsAreJson) {
  const std::string v4 = golden("rwkv4/rwkv4-pile-random.bf16.pth").string();
  auto r = run_cli(str("logits --model '", v4, "' --tokens 1,50277"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(nlohmann::json::parse(r.err)["error"].get<std::string>().find("outside the vocabulary"),
            std::string::npos)
      << r.err;
  r = run_cli(str("logits --model '", golden("emb-model.bf16.pth").string(), "' --tokens 1"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(nlohmann::json::parse(r.err)["error"].get<std::string>().find("not a language model"),
            std::string::npos)
      << r.err;
  r = run_cli("logits --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--tokens"), std::string::npos);
  EXPECT_NE(r.out.find("--precision"), std::string::npos);
}

}  // namespace
}  // namespace rwkv::test

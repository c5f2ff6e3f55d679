// `rwkv inspect` end to end: the golden checkpoints give the right kind and dimensions; bad files give
// exit 1 with an error JSON on stderr.
#include <fstream>

#include <nlohmann/json.hpp>

#include "io/checkpoint.h"
#include "model/detect.h"
#include "test_support.h"

namespace {

using rwkv::test::golden;
using rwkv::test::run_cli;

nlohmann::json inspect(const std::string& relative, const std::string& flags = "") {
  const auto r = run_cli("inspect " + flags + " '" + golden(relative).string() + "'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out);
}

TEST(Inspect, EmbeddingModel) {
  for (const char* file : {"emb-model.bf16.pth", "emb-model.fp32.pth"}) {
    const auto j = inspect(file);
    EXPECT_EQ(j["kind"], "x070-embedding");
    EXPECT_EQ(j["format"], "pth");
    const auto& d = j["dims"];
    EXPECT_EQ(d["layers"], 2);
    EXPECT_EQ(d["n_embd"], 128);
    EXPECT_EQ(d["n_head"], 2);
    EXPECT_EQ(d["head_size"], 64);
    EXPECT_EQ(d["vocab"], 65536);
    EXPECT_EQ(d["ffn"], 512);
    EXPECT_EQ(d["lora"], (nlohmann::json{{"w", 32}, {"a", 32}, {"v", 32}, {"g", 32}}));
    EXPECT_EQ(j["tensors"].size(), 80u);
    EXPECT_EQ(j["tensors"][0], (nlohmann::json{{"name", "rwkv.emb.weight"},
                                               {"dtype", j["tensors"][0]["dtype"]},
                                               {"shape", {65536, 128}}}));
    EXPECT_TRUE(j["unknown_keys"].empty());
    EXPECT_EQ(j["file_size"], std::filesystem::file_size(golden(file)));
  }
}

TEST(Inspect, Rerankers) {
  for (const char* file : {"reranker-a.bf16.pth", "reranker-a.fp32.pth", "reranker-a.bf16.safetensors",
                           "reranker-b.bf16.pth", "reranker-b.fp32.pth", "reranker-b.bf16.safetensors"}) {
    const auto j = inspect(file, "--no-tensors");
    EXPECT_EQ(j["kind"], "x070-reranker") << file;
    EXPECT_EQ(j["dims"]["layers"], 2) << file;
    EXPECT_EQ(j["dims"]["n_embd"], 128) << file;
    EXPECT_FALSE(j.contains("tensors"));
    EXPECT_TRUE(j["unknown_keys"].empty()) << file;
    if (std::string(file).starts_with("reranker-b")) {
      EXPECT_EQ(j["dims"]["reranker_layer_idx"], nlohmann::json::parse("[1, 0]")) << file;
    } else {
      EXPECT_FALSE(j["dims"].contains("reranker_layer_idx")) << file;
    }
  }
}

TEST(Inspect, LanguageModels) {
  const auto v4 = inspect("rwkv4/rwkv4-pile-random.bf16.pth");
  EXPECT_EQ(v4["kind"], "x040-lm");
  EXPECT_EQ(v4["dims"],
            (nlohmann::json{{"layers", 3}, {"n_embd", 128}, {"n_att", 128}, {"vocab", 50277}, {"ffn", 512}}));
  const auto v7 = inspect("x070-lm/rwkv7-lm-random.bf16.pth");
  EXPECT_EQ(v7["kind"], "x070-lm");
  EXPECT_EQ(v7["dims"]["layers"], 2);
  EXPECT_EQ(v7["dims"]["vocab"], 65536);
  EXPECT_EQ(v7["dims"]["n_head"], 2);
  EXPECT_EQ(v7["dims"]["lora"], (nlohmann::json{{"w", 32}, {"a", 32}, {"v", 32}, {"g", 64}}));
}

TEST(Inspect, BadFilesAndHelp) {
  rwkv::test::TempDir tmp;
  const auto bad = tmp.path() / "bad.pth";
  std::ofstream(bad) << "PK\x03\x04 truncated zip: the central directory is missing" << std::string(64, 'x');
  const auto r = run_cli("inspect '" + bad.string() + "'");
  EXPECT_EQ(r.exit_code, 1);
  const auto err = nlohmann::json::parse(r.err);
  EXPECT_NE(err["error"].get<std::string>().find("end of central directory"), std::string::npos) << r.err;
  EXPECT_EQ(run_cli("inspect '" + (tmp.path() / "missing.pth").string() + "'").exit_code, 1);
  const auto help = run_cli("inspect --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--no-tensors"), std::string::npos);
}

// Detection classifies extras: known ignorable keys are not "unknown".
TEST(Inspect, DetectIgnoredAndUnknownKeys) {
  rwkv::test::TempDir tmp;
  const auto c = rwkv::Checkpoint::open(golden("emb-model.bf16.pth"));
  const auto info = rwkv::detect_model(c);
  EXPECT_EQ(info.kind, "x070-embedding");
  EXPECT_TRUE(info.ignored_keys.empty());
  EXPECT_EQ(info.dims["task_heads"], (nlohmann::json{"retr", "sts", "cls"}));
}

}  // namespace

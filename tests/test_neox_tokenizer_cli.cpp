// `rwkv tokenize` / `rwkv detokenize` with --tokenizer 20b or a tokenizer.json path, end to end through
// the built CLI: ids, round trip, special tokens, lossy output, and the flag combinations that are errors.
#include <cstdlib>
#include <optional>

#include <nlohmann/json.hpp>

#include "test_support.h"

namespace {

using rwkv::test::run_cli;

std::string neox_flag() {
  return "--tokenizer '" + (rwkv::test::shared_dir() / "vocab" / "20B_tokenizer.json").string() + "' ";
}

TEST(NeoxCli, TokenizeText) {
  auto r = run_cli("tokenize " + neox_flag() + "'Hello world'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"ids\":[12092,1533]}\n");
  r = run_cli("tokenize " + neox_flag(), "User: hi\n\nAssistant:");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"ids\":[6989,27,14260,187,187,6717,5567,27]}\n");
  r = run_cli("tokenize " + neox_flag() + "--input -",
              "{\"text\": \"a  b   c\"}\n{\"text\": \"Hello<|endoftext|>world\"}\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"ids\":[66,50276,67,50275,68]}\n{\"ids\":[12092,0,10186]}\n");
}

TEST(NeoxCli, NamedTokenizerUsesEnvironment) {
  const char* old = std::getenv("RWKV_TOKENIZER_20B");
  const std::optional<std::string> saved = old ? std::optional<std::string>(old) : std::nullopt;
  setenv("RWKV_TOKENIZER_20B", (rwkv::test::shared_dir() / "vocab" / "20B_tokenizer.json").c_str(), 1);
  auto r = run_cli("tokenize --tokenizer 20b 'Hello world'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"ids\":[12092,1533]}\n");
  setenv("RWKV_TOKENIZER_20B", "/nonexistent/20B_tokenizer.json", 1);
  r = run_cli("tokenize --tokenizer 20b 'Hello world'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("RWKV_TOKENIZER_20B"), std::string::npos) << r.err;
  if (saved) {
    setenv("RWKV_TOKENIZER_20B", saved->c_str(), 1);
  } else {
    unsetenv("RWKV_TOKENIZER_20B");
  }
}

TEST(NeoxCli, RoundTrip) {
  // NFC text (the decomposed e + U+0301 comes back composed).
  const std::string text = "Caf\\u00e9 e\\u0301 \\u65e5\\u672c\\u8a9e \\ud83c\\udf89\\n  x";
  auto r = run_cli("tokenize " + neox_flag() + "--input -", "{\"text\": \"" + text + "\"}\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_cli("detokenize " + neox_flag() + "--input -", r.out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["text"],
            "Caf\xc3\xa9 \xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x8e\x89\n  x");
}

TEST(NeoxCli, Detokenize) {
  auto r = run_cli("detokenize " + neox_flag() + "12092,0,10186");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"text\":\"Hello<|endoftext|>world\"}\n");
  r = run_cli("detokenize --skip-special " + neox_flag() + "'[12092,0,1,10186]'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"text\":\"Helloworld\"}\n");
  // Half an emoji: strict is an error, replace gives U+FFFD and the bytes.
  r = run_cli("detokenize " + neox_flag() + "14931");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not valid UTF-8"), std::string::npos) << r.err;
  r = run_cli("detokenize --errors replace " + neox_flag() + "14931");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"text\":\"\xef\xbf\xbd\",\"bytes_hex\":\"f09f\"}\n");
  r = run_cli("detokenize " + neox_flag() + "50277");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("50277"), std::string::npos) << r.err;
}

TEST(NeoxCli, Errors) {
  // The 20B tokenizer needs valid UTF-8.
  auto r = run_cli("tokenize " + neox_flag(), "ok\xff");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not valid UTF-8"), std::string::npos) << r.err;
  EXPECT_TRUE(nlohmann::json::accept(r.err)) << r.err;
  r = run_cli("tokenize --add-eos " + neox_flag() + "x");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--add-eos"), std::string::npos) << r.err;
  r = run_cli("tokenize --vocab '" + rwkv::test::vocab_path().string() + "' " + neox_flag() + "x");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--vocab"), std::string::npos) << r.err;
  r = run_cli("detokenize --vocab '" + rwkv::test::vocab_path().string() + "' " + neox_flag() + "1,2");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot be combined with --tokenizer"), std::string::npos) << r.err;
  r = run_cli("tokenize --tokenizer gpt2 x");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown tokenizer"), std::string::npos) << r.err;
  // --vocab with --tokenizer world is fine.
  r = run_cli("tokenize --tokenizer world --vocab '" + rwkv::test::vocab_path().string() + "' 'Hello world'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"ids\":[33155,40213]}\n");
}

TEST(NeoxCli, HelpDocumentsTheFlag) {
  for (const char* cmd : {"tokenize --help", "detokenize --help"}) {
    const auto r = run_cli(cmd);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("--tokenizer"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("20b"), std::string::npos) << r.out;
  }
}

}  // namespace

// `rwkv tokenize` / `rwkv detokenize` end to end through the built CLI (run_cli).
#include <cstdlib>
#include <fstream>
#include <optional>

#include "test_support.h"

namespace {

using rwkv::test::run_cli;

std::string vocab_flag() {
  return "--vocab '" + rwkv::test::vocab_path().string() + "' ";
}

TEST(TokenizeCli, Text) {
  auto r = run_cli("tokenize " + vocab_flag() + "'Hello world'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"ids\":[33155,40213]}\n");
  r = run_cli("tokenize --add-eos " + vocab_flag() + "'Hello world'");
  EXPECT_EQ(r.out, "{\"ids\":[33155,40213,65535]}\n");
  r = run_cli("tokenize " + vocab_flag() + "''");
  EXPECT_EQ(r.out, "{\"ids\":[]}\n");
  // Without TEXT, stdin is the text (bytes as given, invalid UTF-8 included).
  r = run_cli("tokenize " + vocab_flag(), "\n\n\xff");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"ids\":[261,256]}\n");
}

TEST(TokenizeCli, JsonlInKeepsOrder) {
  rwkv::test::TempDir dir;
  const auto file = dir.path() / "in.jsonl";
  std::ofstream(file)
      << "{\"text\": \"Hello world\"}\n{\"text\": \"\\n\\n\"}\r\n{\"text\": \"\"}\n{\"text\": \"\\u0000\"}\n";
  auto r = run_cli("tokenize --add-eos --input '" + file.string() + "' " + vocab_flag());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\"ids\":[33155,40213,65535]}\n{\"ids\":[261,65535]}\n{\"ids\":[65535]}\n{\"ids\":[1,65535]}\n");
  r = run_cli("tokenize --input - " + vocab_flag(), "{\"text\": \"Hello world\"}\n{\"text\": \"\\n\\n\"}\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"ids\":[33155,40213]}\n{\"ids\":[261]}\n");
}

TEST(TokenizeCli, BadJsonlLineNamesTheLine) {
  for (const char* bad : {"{\"text\": 5}", "not json", "{\"txt\": \"a\"}", ""}) {
    SCOPED_TRACE(bad);
    auto r = run_cli("tokenize --input - " + vocab_flag(),
                     std::string("{\"text\": \"a\"}\n") + bad + "\n{\"text\": \"b\"}\n");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("line 2"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("\"error\""), std::string::npos) << r.err;
  }
}

TEST(TokenizeCli, Detokenize) {
  auto r = run_cli("detokenize " + vocab_flag() + "33155,40213");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"text\":\"Hello world\"}\n");
  r = run_cli("detokenize " + vocab_flag() + "'{\"ids\": [33155, 0, 40213]}'");
  EXPECT_EQ(r.out, "{\"text\":\"Hello<|endoftext|> world\"}\n");
  r = run_cli("detokenize --skip-special " + vocab_flag() + "'[33155, 0, 40213, 65535]'");
  EXPECT_EQ(r.out, "{\"text\":\"Hello world\"}\n");
  r = run_cli("detokenize " + vocab_flag(), "3319,167,135");
  EXPECT_EQ(r.out, "{\"text\":\"\xf0\x9f\xa6\x86\"}\n");

  r = run_cli("detokenize " + vocab_flag() + "33155,65535");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("65535"), std::string::npos) << r.err;
  r = run_cli("detokenize " + vocab_flag() + "33155,70000");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("70000"), std::string::npos) << r.err;
  r = run_cli("detokenize " + vocab_flag() + "1,x");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("id #2"), std::string::npos) << r.err;
}

TEST(TokenizeCli, DetokenizeInvalidUtf8) {
  auto r = run_cli("detokenize " + vocab_flag() + "34,3319");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("offset 1"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  r = run_cli("detokenize --errors replace " + vocab_flag() + "34,3319");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"text\":\"!\xef\xbf\xbd\",\"bytes_hex\":\"21f09f\"}\n");
  r = run_cli("detokenize --errors bogus " + vocab_flag() + "34");
  EXPECT_NE(r.exit_code, 0);
}

TEST(TokenizeCli, DetokenizeJsonl) {
  auto r = run_cli("detokenize --input - " + vocab_flag(),
                   "{\"ids\": [33155, 40213]}\n{\"ids\": []}\n{\"ids\": [261]}\n{\"ids\": \"x\"}\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "{\"text\":\"Hello world\"}\n{\"text\":\"\"}\n{\"text\":\"\\n\\n\"}\n");
  EXPECT_NE(r.err.find("line 4"), std::string::npos) << r.err;
}

TEST(TokenizeCli, MissingVocabSaysHowToGetIt) {
  rwkv::test::TempDir home;
  std::optional<std::string> saved[3];
  const char* names[3] = {"RWKV_VOCAB", "XDG_DATA_HOME", "HOME"};
  for (int i = 0; i < 3; ++i) {
    if (const char* v = std::getenv(names[i])) saved[i] = v;
  }
  ::unsetenv("RWKV_VOCAB");
  ::unsetenv("XDG_DATA_HOME");
  ::setenv("HOME", home.path().c_str(), 1);
  auto r = run_cli("tokenize hello");
  for (int i = 0; i < 3; ++i) {
    if (saved[i]) {
      ::setenv(names[i], saved[i]->c_str(), 1);
    } else {
      ::unsetenv(names[i]);
    }
  }
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("scripts/fetch-vocab.sh"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("RWKV_VOCAB"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--vocab"), std::string::npos) << r.err;
}

TEST(TokenizeCli, ErrorsStayValidUtf8) {
  // A path with an invalid UTF-8 byte ends up in the message; the JSON error must still be printed.
  auto r = run_cli("tokenize --vocab '/nonexistent/\xff.txt' x");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("{\"error\":"), std::string::npos) << r.err;
}

TEST(TokenizeCli, HelpDocumentsEveryFlag) {
  auto r = run_cli("tokenize --help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* flag : {"--vocab", "--add-eos", "--input", "TEXT"})
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
  r = run_cli("detokenize --help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* flag : {"--vocab", "--skip-special", "--errors", "--input", "IDS", "bytes_hex"})
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
}

}  // namespace

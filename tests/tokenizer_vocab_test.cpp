// World vocab parsing: Python literal decoding, malformed files rejected with the line number, small
// hand-made vocabs, and the vocab lookup order of find_world_vocab.
#include <cstdlib>
#include <fstream>
#include <optional>

#include "rwkv/error.h"
#include "test_support.h"
#include "tokenizer/world_tokenizer.h"
#include "tokenizer/world_vocab_parser.h"

namespace {

using rwkv::TokenId;
using rwkv::WorldTokenizer;

// The 256 single-byte lines (ids 1..256) written the way the real file writes them.
std::string byte_lines() {
  std::string s;
  for (int b = 0; b < 256; ++b) {
    char lit[16];
    if (b == '\'') {
      std::snprintf(lit, sizeof lit, "\"'\"");
    } else if (b == '\\') {
      std::snprintf(lit, sizeof lit, "'\\\\'");
    } else if (b >= 0x20 && b < 0x7F) {
      std::snprintf(lit, sizeof lit, "'%c'", b);
    } else {
      std::snprintf(lit, sizeof lit, b < 0x80 ? "'\\x%02x'" : "b'\\x%02x'", b);
    }
    s += std::to_string(b + 1) + " " + lit + " 1\n";
  }
  return s;
}

std::string parse_error(const std::string& contents) {
  try {
    WorldTokenizer::from_string(contents, "test.txt");
  } catch (const rwkv::Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string decode_literal(std::string_view lit) {
  std::string out, why;
  if (!rwkv::world::decode_python_literal(lit, out, why)) return "ERR: " + why;
  return out;
}

TEST(TokenizerVocab, PythonLiterals) {
  EXPECT_EQ(decode_literal("'abc'"), "abc");
  EXPECT_EQ(decode_literal("'a b'"), "a b");
  EXPECT_EQ(decode_literal("\"'\""), "'");
  EXPECT_EQ(decode_literal("'\\''"), "'");
  EXPECT_EQ(decode_literal("'\\\\'"), "\\");
  EXPECT_EQ(decode_literal("'\\n\\t\\r'"), "\n\t\r");
  EXPECT_EQ(decode_literal("'\\xa0'"), "\xc2\xa0");  // a code point in a str literal
  EXPECT_EQ(decode_literal("b'\\xa0'"), "\xa0");     // a byte in a bytes literal
  EXPECT_EQ(decode_literal("'\\u4e2d'"), "\xe4\xb8\xad");
  EXPECT_EQ(decode_literal("'\\U0001F986'"), "\xf0\x9f\xa6\x86");
  EXPECT_EQ(decode_literal("'\\0'"), std::string(1, '\0'));
  EXPECT_EQ(decode_literal("'\\101'"), "A");
  EXPECT_EQ(decode_literal("'中'"), "\xe4\xb8\xad");
  EXPECT_EQ(decode_literal("b\"\\x00'\""), std::string("\0'", 2));
  for (const char* bad : {"abc",           "'abc",       "abc'",        "'a'b'",   "\"a\"\"",
                          "'\\'",          "'\\x4'",     "'\\xzz'",     "'\\u12'", "'\\ud800'",
                          "'\\U00110000'", "b'\\u1234'", "b'\xc3\xa9'", "'\xff'",  "'\\q'",
                          "'\\N{DASH}'",   "r'a'",       "'",           "b''x",    "b'\\777'"}) {
    EXPECT_EQ(decode_literal(bad).substr(0, 5), "ERR: ") << bad;
  }
}

TEST(TokenizerVocab, SmallVocab) {
  const std::string v =
      byte_lines() + "257 'ab' 2\n258 'abc' 3\n259 '  ' 2\n260 '\\u4e2d' 3\n261 b'\\xe4\\xb8' 2\r\n";
  const auto tok = WorldTokenizer::from_string(v, "small");
  EXPECT_EQ(tok.vocab_size(), 261u);
  EXPECT_EQ(tok.max_token_length(), 3u);
  EXPECT_EQ(tok.encode("abcab a  \xe4\xb8\xad\xe4\xb8"),
            (std::vector<TokenId>{258, 257, 33, 98, 259, 260, 261}));
  EXPECT_EQ(tok.token_bytes(261), "\xe4\xb8");
}

TEST(TokenizerVocab, MalformedFilesNameTheLine) {
  const std::string ok = byte_lines();  // 256 lines
  struct Case {
    std::string extra;  // appended as lines 257...
    std::string want;   // expected message fragment
  };
  for (const Case& c : std::vector<Case>{
           {"257 'ab 2\n", "line 257: bad literal"},
           {"257 'ab' 3\n", "line 257: byte length 3"},
           {"257 'ab' 2\n258 'cd' 2\n257 'ef' 2\n", "line 259: duplicate id 257"},
           {"x57 'ab' 2\n", "line 257: id 'x57' is not a decimal number"},
           {"257 'ab' two\n", "line 257: byte length 'two'"},
           {"257 'ab'\n", "line 257: expected"},
           {"257\n", "line 257: expected"},
           {"257 'ab' 2\n258 'a\\qb' 3\n", "line 258: bad literal: unsupported escape"},
           {"257 'ab' 2\n\n", "line 258: empty line"},
           {"0 'ab' 2\n", "line 257: id 0 is out of range"},
           {"65535 'ab' 2\n", "line 257: id 65535 is out of range"},
           {"257 '' 0\n", "line 257: empty token"},
           {"257 'ab' 2\n258 b'ab' 2\n", "line 258: token 258 has the same bytes as token 257 (line 257)"},
           {"257 'ab' 2\n259 'cd' 2\n", "id 258 is missing"},
           {"257 '\xff' 1\n", "line 257: bad literal: str literal is not valid UTF-8"},
       }) {
    const std::string msg = parse_error(ok + c.extra);
    EXPECT_NE(msg.find(c.want), std::string::npos) << "got: " << msg;
    EXPECT_NE(msg.find("test.txt"), std::string::npos) << msg;
  }
  EXPECT_NE(parse_error("").find("no tokens"), std::string::npos);
  EXPECT_NE(parse_error("1 'a' 1\n2 'b' 1\n").find("no token for the single byte 0x00"), std::string::npos);
  EXPECT_NE(parse_error("2 'a' 1\n").find("id 1 is missing"), std::string::npos);
  // A truncated last line (no newline, cut mid-literal).
  EXPECT_NE(parse_error(ok + "257 'ab' 2\n258 'a").find("line 258"), std::string::npos);
  EXPECT_NE(parse_error(ok + "257 'ab' 2\n258 'abc' ").find("line 258"), std::string::npos);
  // Messages stay valid UTF-8 whatever the file holds.
  const std::string msg = parse_error(ok + "\xff\xfe 'ab' 2\n");
  EXPECT_EQ(rwkv::find_invalid_utf8(msg), std::string_view::npos) << msg;
}

TEST(TokenizerVocab, LoadErrors) {
  EXPECT_THROW(WorldTokenizer::load("/nonexistent/vocab.txt"), rwkv::Error);
  rwkv::test::TempDir dir;
  std::ofstream(dir.path() / "v.txt") << byte_lines() << "257 'ab' 5\n";
  try {
    WorldTokenizer::load(dir.path() / "v.txt");
    ADD_FAILURE();
  } catch (const rwkv::Error& e) {
    EXPECT_NE(std::string(e.what()).find((dir.path() / "v.txt").string() + ", line 257"), std::string::npos)
        << e.what();
  }
}

// Sets or unsets an environment variable for the lifetime of the object.
class EnvOverride {
 public:
  EnvOverride(const char* name, const std::optional<std::string>& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~EnvOverride() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(TokenizerVocab, LookupOrder) {
  rwkv::test::TempDir dir;
  namespace fs = std::filesystem;
  const fs::path flag = dir.path() / "flag.txt", env = dir.path() / "env.txt",
                 model_dir = dir.path() / "model", xdg = dir.path() / "xdg", home = dir.path() / "home";
  const char* name = "rwkv_vocab_v20230424.txt";
  for (const fs::path& d : {model_dir, xdg / "rwkv", home / ".local/share/rwkv"}) fs::create_directories(d);
  for (const fs::path& f :
       {flag, env, model_dir / name, xdg / "rwkv" / name, home / ".local/share/rwkv" / name})
    std::ofstream(f) << "x";
  const fs::path model = model_dir / "m.pth";

  EnvOverride e1("RWKV_VOCAB", env.string()), e2("XDG_DATA_HOME", xdg.string()), e3("HOME", home.string());
  EXPECT_EQ(rwkv::find_world_vocab(flag, model), flag);
  EXPECT_EQ(rwkv::find_world_vocab(std::nullopt, model), env);
  {
    EnvOverride u("RWKV_VOCAB", std::nullopt);
    EXPECT_EQ(rwkv::find_world_vocab(std::nullopt, model), model_dir / name);
    EXPECT_EQ(rwkv::find_world_vocab(std::nullopt, std::nullopt), xdg / "rwkv" / name);
    EnvOverride ux("XDG_DATA_HOME", std::nullopt);
    EXPECT_EQ(rwkv::find_world_vocab(std::nullopt, std::nullopt), home / ".local/share/rwkv" / name);
    fs::remove(home / ".local/share/rwkv" / name);
    try {
      rwkv::find_world_vocab(std::nullopt, std::nullopt);
      ADD_FAILURE();
    } catch (const rwkv::Error& e) {
      const std::string msg = e.what();
      for (const char* want : {"scripts/fetch-vocab.sh", "RWKV_VOCAB", "--vocab", "not found"})
        EXPECT_NE(msg.find(want), std::string::npos) << msg;
    }
  }
  // An explicit choice that does not exist is an error, not a fall-through.
  EXPECT_THROW(rwkv::find_world_vocab(dir.path() / "missing.txt", model), rwkv::Error);
  EnvOverride bad("RWKV_VOCAB", (dir.path() / "missing.txt").string());
  EXPECT_THROW(rwkv::find_world_vocab(std::nullopt, model), rwkv::Error);
}

}  // namespace

// load_tokenizer / find_neox_tokenizer (tokenizer_select.h): names, paths, the model hint, the search
// order for 20B_tokenizer.json and its not-found message; the World adapter; and scripts/fetch-vocab.sh
// for the 20B file (offline, through a file:// URL).
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>

#include "rwkv/error.h"
#include "test_support.h"
#include "tokenizer/tokenizer_select.h"

namespace {

namespace fs = std::filesystem;
using rwkv::ModelHint;
using rwkv::TokenId;

fs::path neox_file() {
  return rwkv::test::shared_dir() / "vocab" / "20B_tokenizer.json";
}

// Sets (or, with nullopt, unsets) an environment variable for the scope, restoring the old value after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::optional<std::string>& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      setenv(name, value->c_str(), 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// An environment where nothing is found unless a test puts it there: no env vars, data dirs empty.
struct IsolatedEnv {
  rwkv::test::TempDir home;
  ScopedEnv a{"RWKV_TOKENIZER_20B", std::nullopt};
  ScopedEnv b{"RWKV_VOCAB", std::nullopt};
  ScopedEnv c{"XDG_DATA_HOME", (home.path() / "xdg").string()};
  ScopedEnv d{"HOME", home.path().string()};
};

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const rwkv::Error& e) {
    return e.what();
  }
  return "";
}

TEST(NeoxSelect, ByName) {
  IsolatedEnv env;
  ScopedEnv neox("RWKV_TOKENIZER_20B", neox_file().string());
  const auto t = rwkv::load_tokenizer("20b", ModelHint::kNone);
  EXPECT_EQ(t->name(), "20b");
  EXPECT_EQ(t->encode("Hello world"), (std::vector<TokenId>{12092, 1533}));
  const auto w = rwkv::load_tokenizer("world", ModelHint::kRwkv4, std::nullopt, rwkv::test::vocab_path());
  EXPECT_EQ(w->name(), "world");
  EXPECT_EQ(w->encode("Hello world"), (std::vector<TokenId>{33155, 40213}));
}

TEST(NeoxSelect, FromModelHint) {
  IsolatedEnv env;
  // 20B next to the model, World vocab by flag.
  rwkv::test::TempDir models;
  fs::copy_file(neox_file(), models.path() / "20B_tokenizer.json");
  const fs::path model = models.path() / "RWKV-4-Pile-169M.pth";
  EXPECT_EQ(rwkv::load_tokenizer("", ModelHint::kRwkv4, model)->name(), "20b");
  EXPECT_EQ(rwkv::load_tokenizer("", ModelHint::kRwkv7, model, rwkv::test::vocab_path())->name(), "world");
  EXPECT_EQ(rwkv::load_tokenizer("", ModelHint::kNone, model, rwkv::test::vocab_path())->name(), "world");
  EXPECT_EQ(rwkv::model_hint_for_kind("x040-lm"), ModelHint::kRwkv4);
  EXPECT_EQ(rwkv::model_hint_for_kind("x070-lm"), ModelHint::kRwkv7);
  EXPECT_EQ(rwkv::model_hint_for_kind("x070-embedding"), ModelHint::kRwkv7);
  EXPECT_EQ(rwkv::model_hint_for_kind("unknown"), ModelHint::kNone);
}

TEST(NeoxSelect, SearchOrder) {
  IsolatedEnv env;
  rwkv::test::TempDir models;
  const fs::path model = models.path() / "m.pth";
  const fs::path xdg_file = env.home.path() / "xdg" / "rwkv" / "20B_tokenizer.json";
  fs::create_directories(xdg_file.parent_path());
  fs::copy_file(neox_file(), xdg_file);
  EXPECT_EQ(rwkv::find_neox_tokenizer(std::nullopt, model), xdg_file);
  fs::copy_file(neox_file(), models.path() / "20B_tokenizer.json");
  EXPECT_EQ(rwkv::find_neox_tokenizer(std::nullopt, model), models.path() / "20B_tokenizer.json");
  ScopedEnv neox("RWKV_TOKENIZER_20B", neox_file().string());
  EXPECT_EQ(rwkv::find_neox_tokenizer(std::nullopt, model), neox_file());
  EXPECT_EQ(rwkv::find_neox_tokenizer(xdg_file, model), xdg_file);
  // Without XDG_DATA_HOME, ~/.local/share/rwkv is the data dir.
  ScopedEnv no_xdg("XDG_DATA_HOME", std::nullopt);
  ScopedEnv no_neox("RWKV_TOKENIZER_20B", std::nullopt);
  const fs::path home_file = env.home.path() / ".local" / "share" / "rwkv" / "20B_tokenizer.json";
  fs::create_directories(home_file.parent_path());
  fs::copy_file(neox_file(), home_file);
  EXPECT_EQ(rwkv::find_neox_tokenizer(std::nullopt, std::nullopt), home_file);
}

TEST(NeoxSelect, NotFoundListsThePlacesSearched) {
  IsolatedEnv env;
  rwkv::test::TempDir models;
  const fs::path model = models.path() / "m.pth";
  const std::string msg = error_of([&] { rwkv::load_tokenizer("", ModelHint::kRwkv4, model); });
  for (const std::string& want :
       {std::string("20B_tokenizer.json"), (models.path() / "20B_tokenizer.json").string(),
        (env.home.path() / "xdg" / "rwkv" / "20B_tokenizer.json").string(), std::string("RWKV_TOKENIZER_20B"),
        std::string("scripts/fetch-vocab.sh"), std::string("--tokenizer")})
    EXPECT_NE(msg.find(want), std::string::npos) << want << " missing in: " << msg;
  // An explicit choice that does not exist is an error, not a reason to look elsewhere.
  ScopedEnv neox("RWKV_TOKENIZER_20B", (models.path() / "nope.json").string());
  fs::copy_file(neox_file(), models.path() / "20B_tokenizer.json");
  EXPECT_NE(
      error_of([&] { rwkv::load_tokenizer("20b", ModelHint::kNone, model); }).find("$RWKV_TOKENIZER_20B"),
      std::string::npos);
}

TEST(NeoxSelect, Paths) {
  IsolatedEnv env;
  EXPECT_EQ(rwkv::load_tokenizer(neox_file().string(), ModelHint::kRwkv7)->name(), "20b");
  EXPECT_EQ(rwkv::load_tokenizer(rwkv::test::vocab_path().string(), ModelHint::kRwkv4)->name(), "world");
  EXPECT_NE(
      error_of([] { rwkv::load_tokenizer("/no/such/tokenizer.json", ModelHint::kNone); }).find("not found"),
      std::string::npos);
  EXPECT_NE(error_of([] { rwkv::load_tokenizer("gpt2", ModelHint::kNone); }).find("unknown tokenizer"),
            std::string::npos);
  EXPECT_NE(error_of([] { rwkv::load_tokenizer("/tmp/x.bin", ModelHint::kNone); }).find("unknown tokenizer"),
            std::string::npos);
  // A World vocab given as a .json is parsed as JSON and fails naming the file.
  rwkv::test::TempDir dir;
  fs::copy_file(rwkv::test::vocab_path(), dir.path() / "vocab.json");
  const std::string msg =
      error_of([&] { rwkv::load_tokenizer((dir.path() / "vocab.json").string(), ModelHint::kNone); });
  EXPECT_NE(msg.find("vocab.json"), std::string::npos) << msg;
}

TEST(NeoxSelect, WorldAdapter) {
  const auto w = rwkv::make_world_tokenizer(rwkv::WorldTokenizer::load(rwkv::test::vocab_path()));
  EXPECT_EQ(w->name(), "world");
  EXPECT_EQ(w->vocab_size(), 65530u);
  EXPECT_EQ(w->end_of_text(), 0);
  EXPECT_TRUE(w->is_special(0));
  EXPECT_TRUE(w->is_special(65535));
  EXPECT_FALSE(w->is_special(1));
  EXPECT_EQ(w->token_bytes(0), "<|endoftext|>");
  EXPECT_EQ(w->decode_bytes(std::vector<TokenId>{3319, 167, 135}), "\xf0\x9f\xa6\x86");
  EXPECT_THROW(w->token_bytes(65535), rwkv::Error);
  EXPECT_THROW(w->token_bytes(65530), rwkv::Error);
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

int run_fetch_20b(const fs::path& source, const fs::path& dest_dir, const fs::path& log) {
  const std::string cmd = "RWKV_TOKENIZER_20B_URL='file://" + source.string() +
                          "' '" RWKV_SOURCE_DIR "/scripts/fetch-vocab.sh' --20b '" + dest_dir.string() +
                          "' >'" + log.string() + "' 2>&1";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

TEST(NeoxSelect, FetchScriptInstallsVerified20B) {
  if (std::system("command -v curl >/dev/null") != 0) GTEST_SKIP() << "curl not installed";
  rwkv::test::TempDir dir;
  const fs::path dest = dir.path() / "rwkv";
  EXPECT_EQ(run_fetch_20b(neox_file(), dest, dir.path() / "log"), 0) << slurp(dir.path() / "log");
  EXPECT_EQ(slurp(dest / "20B_tokenizer.json"), slurp(neox_file()));
  EXPECT_FALSE(fs::exists(dest / "rwkv_vocab_v20230424.txt"));  // --20b fetches only that file
  // A corrupted copy fails the SHA-256 check and installs nothing.
  std::string bytes = slurp(neox_file());
  bytes[1000] ^= 1;
  std::ofstream(dir.path() / "bad.json", std::ios::binary) << bytes;
  const fs::path dest2 = dir.path() / "rwkv2";
  EXPECT_EQ(run_fetch_20b(dir.path() / "bad.json", dest2, dir.path() / "log"), 1);
  EXPECT_NE(slurp(dir.path() / "log").find("SHA-256 MISMATCH"), std::string::npos)
      << slurp(dir.path() / "log");
  EXPECT_TRUE(fs::is_empty(dest2));
}

}  // namespace

// scripts/fetch-vocab.sh, run offline: a file:// URL override (RWKV_VOCAB_URL) pointing at the shared
// copy must install it; a corrupted copy must fail the SHA-256 check and leave nothing behind.
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

#include "test_support.h"

namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

int run_fetch(const fs::path& source, const fs::path& dest_dir, const fs::path& log) {
  const std::string cmd = "RWKV_VOCAB_URL='file://" + source.string() +
                          "' '" RWKV_SOURCE_DIR "/scripts/fetch-vocab.sh' --world '" + dest_dir.string() +
                          "' >'" + log.string() + "' 2>&1";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

TEST(TokenizerFetchVocab, InstallsVerifiedCopy) {
  if (std::system("command -v curl >/dev/null") != 0) GTEST_SKIP() << "curl not installed";
  rwkv::test::TempDir dir;
  const fs::path src = rwkv::test::vocab_path();
  const fs::path dest = dir.path() / "data" / "rwkv";
  EXPECT_EQ(run_fetch(src, dest, dir.path() / "log"), 0) << slurp(dir.path() / "log");
  EXPECT_EQ(slurp(dest / "rwkv_vocab_v20230424.txt"), slurp(src));
  // A second run sees the verified file and does nothing.
  EXPECT_EQ(run_fetch(dir.path() / "nonexistent", dest, dir.path() / "log"), 0) << slurp(dir.path() / "log");
  EXPECT_NE(slurp(dir.path() / "log").find("already present"), std::string::npos);
}

TEST(TokenizerFetchVocab, RejectsCorruptedCopy) {
  if (std::system("command -v curl >/dev/null") != 0) GTEST_SKIP() << "curl not installed";
  rwkv::test::TempDir dir;
  std::string bytes = slurp(rwkv::test::vocab_path());
  ASSERT_GT(bytes.size(), 1000u);
  bytes[500] ^= 1;
  const fs::path bad = dir.path() / "corrupt.txt";
  std::ofstream(bad, std::ios::binary) << bytes;
  const fs::path dest = dir.path() / "out";
  EXPECT_EQ(run_fetch(bad, dest, dir.path() / "log"), 1);
  EXPECT_NE(slurp(dir.path() / "log").find("SHA-256 MISMATCH"), std::string::npos)
      << slurp(dir.path() / "log");
  EXPECT_FALSE(fs::exists(dest / "rwkv_vocab_v20230424.txt"));
  // No temporary file left behind either.
  EXPECT_TRUE(fs::is_empty(dest));
  // A download failure is also an error.
  EXPECT_EQ(run_fetch(dir.path() / "nonexistent", dest, dir.path() / "log"), 1);
}

}  // namespace

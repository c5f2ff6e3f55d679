// Implementation of the shared test helpers (see test_support.h).
#include "test_support.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace rwkv::test {

std::filesystem::path shared_dir() {
  const char* env = std::getenv("RWKV_SHARED_DIR");
  std::filesystem::path p = env ? env : RWKV_SHARED_DIR;
  if (!std::filesystem::is_directory(p / "golden")) {
    ADD_FAILURE() << "shared data not found at " << p
                  << ": tests need ../shared beside the repository (or RWKV_SHARED_DIR)";
    throw std::runtime_error("missing ../shared");
  }
  return p;
}

std::filesystem::path golden(const std::string& relative) {
  auto p = shared_dir() / "golden" / relative;
  if (!std::filesystem::exists(p)) {
    ADD_FAILURE() << "golden file missing: " << p;
    throw std::runtime_error("missing golden file " + p.string());
  }
  return p;
}

std::filesystem::path vocab_path() {
  return shared_dir() / "vocab" / "rwkv_vocab_v20230424.txt";
}

NpyArray load_npy(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  char magic[6];
  in.read(magic, 6);
  if (std::memcmp(magic, "\x93NUMPY", 6) != 0) throw std::runtime_error("not npy: " + path.string());
  unsigned char ver[2];
  in.read(reinterpret_cast<char*>(ver), 2);
  std::uint32_t hlen = 0;
  if (ver[0] == 1) {
    unsigned char b[2];
    in.read(reinterpret_cast<char*>(b), 2);
    hlen = b[0] | (b[1] << 8);
  } else {
    unsigned char b[4];
    in.read(reinterpret_cast<char*>(b), 4);
    hlen = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<std::uint32_t>(b[3]) << 24);
  }
  std::string header(hlen, '\0');
  in.read(header.data(), hlen);
  if (header.find("'descr': '<f4'") == std::string::npos ||
      header.find("'fortran_order': False") == std::string::npos)
    throw std::runtime_error("npy must be <f4 C order: " + path.string());
  NpyArray a;
  auto lp = header.find('(', header.find("'shape'"));
  auto rp = header.find(')', lp);
  std::stringstream ss(header.substr(lp + 1, rp - lp - 1));
  std::string item;
  std::int64_t numel = 1;
  while (std::getline(ss, item, ',')) {
    if (item.find_first_not_of(' ') == std::string::npos) continue;
    a.shape.push_back(std::stoll(item));
    numel *= a.shape.back();
  }
  a.data.resize(static_cast<std::size_t>(numel));
  in.read(reinterpret_cast<char*>(a.data.data()), numel * 4);
  if (!in) throw std::runtime_error("truncated npy: " + path.string());
  return a;
}

TempDir::TempDir() {
  std::random_device rd;
  path_ = std::filesystem::temp_directory_path() /
          ("rwkv-test-" + std::to_string(rd()) + std::to_string(::getpid()));
  std::filesystem::create_directories(path_);
}
TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

static std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

CliResult run_cli(const std::string& args, const std::string& stdin_text) {
  TempDir tmp;
  auto in = tmp.path() / "stdin", out = tmp.path() / "stdout", err = tmp.path() / "stderr";
  std::ofstream(in, std::ios::binary) << stdin_text;
  std::string cmd = std::string("'") + RWKV_CLI_PATH + "' " + args + " <'" + in.string() + "' >'" +
                    out.string() + "' 2>'" + err.string() + "'";
  int status = std::system(cmd.c_str());
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return {code, read_all(out), read_all(err)};
}

}  // namespace rwkv::test

::testing::AssertionResult AllClose(const float* got, const float* want, std::size_t n, double max_abs) {
  double worst = 0;
  std::size_t worst_i = 0, bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    double d = std::fabs(static_cast<double>(got[i]) - want[i]);
    if (!(d <= max_abs)) {  // NaN counts as a mismatch
      ++bad;
      if (!(d <= worst)) worst = d, worst_i = i;
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << bad << " of " << n << " values differ by more than " << max_abs << "; worst at [" << worst_i
         << "]: got " << got[worst_i] << ", want " << want[worst_i] << " (diff " << worst << ")";
}

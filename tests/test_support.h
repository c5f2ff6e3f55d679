// Helpers shared by tests: locating ../shared (golden data, vocab), reading .npy arrays, comparing
// float arrays with a report of the first mismatches.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace rwkv::test {

// The shared folder (golden data, vocab). Fails the current test with a clear message if absent.
std::filesystem::path shared_dir();
std::filesystem::path golden(const std::string& relative);  // shared_dir()/golden/relative, must exist
std::filesystem::path vocab_path();                         // shared_dir()/vocab/rwkv_vocab_v20230424.txt

struct NpyArray {
  std::vector<std::int64_t> shape;
  std::vector<float> data;  // float32, C order
};
NpyArray load_npy(const std::filesystem::path& path);

// A fresh temporary directory for one test, removed at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Runs the rwkv CLI with the given arguments (shell-quoted by the caller); returns exit code, stdout, stderr.
struct CliResult {
  int exit_code;
  std::string out;
  std::string err;
};
CliResult run_cli(const std::string& args, const std::string& stdin_text = "");

}  // namespace rwkv::test

// Max-abs comparison with a readable report: fails with the index and values of the worst entries.
::testing::AssertionResult AllClose(const float* got, const float* want, std::size_t n, double max_abs);
inline ::testing::AssertionResult AllClose(const std::vector<float>& got, const std::vector<float>& want,
                                           double max_abs) {
  if (got.size() != want.size())
    return ::testing::AssertionFailure() << "size " << got.size() << " != expected " << want.size();
  return AllClose(got.data(), want.data(), got.size(), max_abs);
}

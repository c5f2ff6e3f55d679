// Helpers shared by CLI commands: the engine options every model command takes (threads, ISA,
// verbosity), model/tokenizer loading, JSON-lines input, and JSON output.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "kernels/dispatch.h"
#include "kernels/gemm.h"
#include "tokenizer/world_tokenizer.h"
#include "util/thread_pool.h"

namespace rwkv::cli {

struct EngineOptions {
  int threads = 0;  // 0 = all cores
  int chunk_tokens = 256;
  bool verbose = false;
  std::string precision = "fp32";
  void add_to(CLI::App& cmd);
  WeightPrecision weight_precision() const;  // throws rwkv::Error on an unknown name
};

// One engine context per command run: the pool and the chosen kernels. Prints the choice with --verbose.
struct Engine {
  explicit Engine(const EngineOptions& o);
  const KernelTable& kt;
  ThreadPool pool;
};

// Lazily loaded World tokenizer (only commands with text input need the vocab).
class LazyTokenizer {
 public:
  LazyTokenizer(std::optional<std::string> vocab_flag, std::optional<std::string> model_path)
      : flag_(std::move(vocab_flag)), model_(std::move(model_path)) {}
  const WorldTokenizer& get();

 private:
  std::optional<std::string> flag_, model_;
  std::unique_ptr<WorldTokenizer> tok_;
};

// Calls fn(where, object) for every line of a JSON-lines file ("-" = stdin), where `where` is "FILE line N"
// ("stdin line N"). CRLF line ends are accepted. A blank line, or one that is not a JSON object, is an
// rwkv::Error naming the file and line (the message stays valid UTF-8): outputs answer inputs line by line.
void for_each_json_line(const std::string& path,
                        const std::function<void(const std::string& where, const nlohmann::json& j)>& fn);

// Prints one JSON value per line on stdout.
void print_line(const nlohmann::json& j);

}  // namespace rwkv::cli

// Shared CLI helpers.
#include "cli/common.h"

#include <fstream>
#include <iostream>

#include "rwkv/error.h"
#include "tokenizer/world_utf8.h"
#include "util/strcat.h"

namespace rwkv::cli {

void EngineOptions::add_to(CLI::App& cmd) {
  cmd.add_option("--threads", threads, "Worker threads (0 = all cores)")
      ->envname("RWKV_THREADS")
      ->check(CLI::Range(0, 1024));
  cmd.add_option("--chunk-tokens", chunk_tokens, "Tokens processed per forward step (bounds memory)")
      ->check(CLI::Range(1, 1 << 20));
  cmd.add_flag("--verbose", verbose, "Print the chosen ISA and thread count on stderr");
  cmd.add_option(
         "--precision,--weights", precision,
         "Weights in matrix products: fp32 (exact, matches the reference), bf16 (bf16 weights and "
         "activations, fp32 accumulation and state; faster, half the memory), int8 (int8 weights "
         "with a scale per output channel, fp32 activations; a quarter of the memory) or w8a8 (weights "
         "as for int8, and each product's input rows quantised to int8 with a scale per row: integer "
         "products; the fastest prefill, the least exact)")
      ->envname("RWKV_PRECISION");
}

WeightPrecision EngineOptions::weight_precision() const {
  return parse_precision(precision, "--precision");
}

Engine::Engine(const EngineOptions& o) : kt(kernels_for(select_isa())), pool(o.threads) {
  if (o.verbose)
    std::cerr << nlohmann::json{{"isa", isa_name(kt.isa)},
                                {"threads", pool.size()},
                                {"precision", o.precision}}
                     .dump()
              << "\n";
}

const WorldTokenizer& LazyTokenizer::get() {
  if (!tok_) {
    std::optional<std::filesystem::path> f, m;
    if (flag_) f = *flag_;
    if (model_) m = *model_;
    tok_ = std::make_unique<WorldTokenizer>(WorldTokenizer::load(find_world_vocab(f, m)));
  }
  return *tok_;
}

void for_each_json_line(const std::string& path,
                        const std::function<void(const std::string& where, const nlohmann::json& j)>& fn) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) throw Error(to_valid_utf8(str(path, ": cannot open input file"), true));
    in = &file;
  }
  const std::string name = path == "-" ? std::string("stdin") : path;
  std::string line;
  for (long n = 1; std::getline(*in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string where = str(name, " line ", n);
    // Output line i answers input line i, so a blank line is an error rather than silently skipped.
    if (line.find_first_not_of(" \t") == std::string::npos)
      throw Error(to_valid_utf8(str(where, ": blank line (every line must be a JSON object)"), true));
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw Error(to_valid_utf8(str(where, ": invalid JSON: ", e.what()), true));
    }
    if (!j.is_object()) throw Error(to_valid_utf8(str(where, ": expected a JSON object"), true));
    fn(where, j);
  }
  if (in->bad()) throw Error(to_valid_utf8(str("error reading ", name), true));
}

void print_line(const nlohmann::json& j) {
  std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

}  // namespace rwkv::cli

// rwkv synth: write a random-weight model with real key names and shapes (benchmarks, demos).
#include <chrono>
#include <memory>

#include "cli/commands.h"
#include "cli/common.h"
#include "model/synth.h"
#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv::cli {

void add_synth_command(CLI::App& app) {
  auto spec = std::make_shared<SynthSpec>();
  auto out = std::make_shared<std::string>();
  auto dtype = std::make_shared<std::string>("bf16");
  auto* cmd = app.add_subcommand(
      "synth", "Write a random-weight model (real key names and shapes); prints {\"path\",\"params\",...}");
  cmd->add_option("--kind", spec->kind, "x070-embedding, x070-reranker, x070-lm or x040-lm");
  cmd->add_option("--layers", spec->layers, "Blocks (for a reranker: reranker blocks)")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--embd", spec->embd, "Model width C (a multiple of 64)")->check(CLI::Range(64, 16384));
  cmd->add_option("--vocab", spec->vocab, "Vocabulary rows (0 = 65536 for x070, 50277 for x040)")
      ->check(CLI::Range(0, 1 << 22));
  cmd->add_option("--ffn", spec->ffn, "FFN width (0 = 4 x embd)")->check(CLI::Range(0, 1 << 20));
  cmd->add_option("--dtype", *dtype, "Stored dtype: bf16, fp16 or fp32");
  cmd->add_option("--seed", spec->seed, "Random seed");
  cmd->add_option("--reranker-layer-idx", spec->reranker_layer_idx,
                  "x070-reranker: JSON list of embedding layers per block, e.g. \"[0, 5, 11]\"");
  cmd->add_option("--out", *out, "Output file (.safetensors or .pth)")->required();
  cmd->callback([spec, out, dtype] {
    if (*dtype == "bf16")
      spec->dtype = DType::BF16;
    else if (*dtype == "fp16")
      spec->dtype = DType::F16;
    else if (*dtype == "fp32")
      spec->dtype = DType::F32;
    else
      throw Error(str("unknown --dtype '", *dtype, "' (expected bf16, fp16 or fp32)"));
    const auto t0 = std::chrono::steady_clock::now();
    const std::int64_t params = write_synthetic_model(*spec, *out);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    print_line({{"path", *out},
                {"kind", spec->kind},
                {"params", params},
                {"dtype", *dtype},
                {"seconds", secs},
                {"note", "random weights: for benchmarks and demos only"}});
  });
}

}  // namespace rwkv::cli

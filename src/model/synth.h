// Synthetic random-weight checkpoints with the real key names and shapes of each model kind, for
// benchmarks, demos and tests on real sizes (no pretrained weights are needed). Values follow the
// distributions of shared/golden/README.md §2 (nothing zero, every path active). Deterministic per seed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "io/tensor.h"

namespace rwkv {

struct SynthSpec {
  std::string kind = "x070-embedding";  // x070-embedding | x070-reranker | x070-lm | x040-lm
  int layers = 12;                      // blocks (reranker: reranker blocks)
  int embd = 768;
  int vocab = 0;              // 0 = default for the kind (65536 for x070, 50277 for x040)
  int ffn = 0;                // 0 = 4 * embd
  DType dtype = DType::BF16;  // BF16, F16 or F32
  std::uint64_t seed = 1;
  std::string reranker_layer_idx;  // x070-reranker: optional JSON list, e.g. "[0, 5, 11]"
};

// Writes the model to `out`; the format follows the extension (.safetensors or .pth). Returns the
// number of parameters written.
std::int64_t write_synthetic_model(const SynthSpec& spec, const std::filesystem::path& out);

// LoRA widths the training code derives from C (the real models' values; spec §2.1).
int lora_width_decay(int C);
int lora_width_value(int C);
int lora_width_gate(int C);

}  // namespace rwkv

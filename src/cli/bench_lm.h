// The language-model part of `rwkv bench`: prompt prefill (a batch of prompts and a single prompt), decode
// latency, memory and accuracy against fp32, for each precision mode of an RWKV-4 or RWKV-7 LM checkpoint.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/common.h"

namespace rwkv::cli {

struct LmBenchOptions {
  int prompts = 64;        // prompts in the batched prefill
  int tokens = 256;        // tokens per prompt
  int reps = 3;            // timed repetitions (median), after one warm-up
  int decode_tokens = 64;  // tokens fed one at a time
  int chunk_tokens = 256;
};

// True if the checkpoint at `path` is an RWKV-4 or RWKV-7 language model.
bool is_language_model_file(const std::string& path);

// One JSON object per mode (keys as in `modes`: "fp32", "bf16", ...), each measured in a process of its
// own with the engine options' threads and ISA: "prefill" {gflops, ...}, "prompt", "decode" {ms_per_token,
// weight_bytes_per_token}, "rss_before_load_mb", "rss_mb" (growth over the runs), "peak_rss_mb", load time,
// and for modes after the first "vs_<first mode>" (max logit error and argmax agreement against the first
// mode). Also fills model_info with the architecture and FLOPs per token.
nlohmann::json bench_language_model(const std::string& path, const std::vector<std::string>& modes,
                                    const LmBenchOptions& o, const EngineOptions& engine,
                                    nlohmann::json& model_info);

}  // namespace rwkv::cli

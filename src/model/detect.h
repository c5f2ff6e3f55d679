// Model-kind detection from a checkpoint's tensor names and shapes: which architecture a file holds
// (RWKV-7 embedding model, reranker or LM; RWKV-4 LM), its dimensions, and which keys it does not expect.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/checkpoint.h"

namespace rwkv {

struct ModelInfo {
  // "x070-embedding", "x070-reranker", "x070-lm", "x040-lm" or "unknown".
  std::string kind;
  // Read from tensor shapes only: layers, n_embd, n_head, head_size, vocab, ffn, lora {w,a,v,g};
  // rerankers add reranker_layer_idx when the file has it; RWKV-4 adds n_att.
  nlohmann::json dims = nlohmann::json::object();
  std::vector<std::string> unknown_keys;  // tensors the kind does not expect
  std::vector<std::string> ignored_keys;  // known extras the engine skips (rwkv.head.weight, vit.*, proj.*)
};

ModelInfo detect_model(const Checkpoint& ckpt);

}  // namespace rwkv

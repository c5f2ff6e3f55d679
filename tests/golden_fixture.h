// Shared fixture for the EmbeddingRWKV golden tests: loads the golden embedding model (bf16 and fp32
// copies) once per test binary, the manifest, and offers helpers to run the engine on id lists.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernels/dispatch.h"
#include "pipeline/embedder.h"
#include "pipeline/reranker.h"
#include "test_support.h"
#include "util/thread_pool.h"

namespace rwkv::test {

struct GoldenModels {
  nlohmann::json manifest;
  std::shared_ptr<const Checkpoint> ckpt_bf16, ckpt_fp32;
  std::unique_ptr<Embedder> bf16, fp32;
};
// Loaded on first use; fails the calling test if ../shared is missing.
const GoldenModels& golden_models();

// Test-name suffix for ISA-parameterised suites.
inline std::string IsaParamName(const ::testing::TestParamInfo<Isa>& p) {
  return std::string(isa_name(p.param));
}

std::vector<TokenId> ids_of(const nlohmann::json& list);
std::vector<float> row_of(const NpyArray& a, std::size_t row);  // row of a 2-D array
// Slice [l, b] of an array shaped [L, B, ...] as a flat vector.
std::vector<float> slice_lb(const NpyArray& a, std::size_t l, std::size_t b);

}  // namespace rwkv::test

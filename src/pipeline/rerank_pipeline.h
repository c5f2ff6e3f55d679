// Reranking a query against documents with EmbeddingRWKV's state reranker, online (document and query
// in one pass) or offline (document states computed once, optionally cached on disk, then continued
// with the query). Offline equals online-unpadded exactly because the token lists concatenate.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/embedder.h"
#include "pipeline/preprocess.h"
#include "pipeline/reranker.h"

namespace rwkv {

struct RerankResult {
  std::size_t index;
  float logit, score;
};

struct RerankOptions {
  bool offline = false;
  std::optional<std::filesystem::path> state_cache;  // offline only: directory of cached document states
  StateDType cache_dtype = StateDType::F32;
  RerankTemplate templ;
  int chunk_tokens = 256;
};

// Text -> token ids (no EOS): normally WorldTokenizer::encode.
using TextEncoder = std::function<std::vector<TokenId>(std::string_view)>;

class RerankPipeline {
 public:
  RerankPipeline(const X070Model& model, const StateReranker& reranker, TextEncoder encode)
      : model_(model), reranker_(reranker), encode_(std::move(encode)) {}

  // Results in document order (callers sort).
  std::vector<RerankResult> score(const std::string& query, const std::vector<std::string>& documents,
                                  const RerankOptions& o, const KernelTable& kt, ThreadPool& pool) const;

  // Offline document states (after the document template, no EOS), computed in one ragged batch; with a
  // state cache, cached ones are loaded and new ones stored.
  std::vector<X070State> document_states(const std::vector<std::string>& documents, const RerankOptions& o,
                                         const KernelTable& kt, ThreadPool& pool) const;
  // Continues copies of document states with the query (template + EOS) and scores them.
  std::vector<RerankResult> score_states(const std::string& query, std::vector<X070State> states,
                                         const RerankOptions& o, const KernelTable& kt,
                                         ThreadPool& pool) const;

 private:
  std::filesystem::path cache_path(const std::filesystem::path& dir, const std::string& doc_text) const;
  // Runs each id list from its state (in place), then the reranker on the final states.
  std::vector<RerankResult> run_and_score(const std::vector<std::vector<TokenId>>& ids,
                                          std::vector<X070State>& states, const RerankOptions& o,
                                          const KernelTable& kt, ThreadPool& pool) const;
  const X070Model& model_;
  const StateReranker& reranker_;
  TextEncoder encode_;
};

}  // namespace rwkv

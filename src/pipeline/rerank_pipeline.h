// Reranking a query against documents with EmbeddingRWKV's state reranker, online (document and query
// in one pass) or offline (document states computed once, optionally cached on disk, then continued
// with the query). Offline equals online-unpadded exactly because the token lists concatenate.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/embedder.h"
#include "pipeline/preprocess.h"
#include "pipeline/reranker.h"
#include "tokenizer/world_tokenizer.h"

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

class RerankPipeline {
 public:
  RerankPipeline(const X070Model& model, const StateReranker& reranker, const WorldTokenizer& tok)
      : model_(model), reranker_(reranker), tok_(tok) {}

  // Results in document order (callers sort).
  std::vector<RerankResult> score(const std::string& query, const std::vector<std::string>& documents,
                                  const RerankOptions& o, const KernelTable& kt, ThreadPool& pool) const;

  // The offline document state (after the document template, no EOS), from cache if present.
  X070State document_state(const std::string& document, const RerankOptions& o, const KernelTable& kt,
                           ThreadPool& pool) const;

 private:
  std::filesystem::path cache_path(const std::filesystem::path& dir, const std::string& doc_text) const;
  const X070Model& model_;
  const StateReranker& reranker_;
  const WorldTokenizer& tok_;
};

}  // namespace rwkv

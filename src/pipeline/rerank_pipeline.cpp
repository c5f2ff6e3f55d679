// RerankPipeline: online and offline scoring with an optional on-disk document state cache.
#include "pipeline/rerank_pipeline.h"

#include <cstdio>

#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv {

std::filesystem::path RerankPipeline::cache_path(const std::filesystem::path& dir,
                                                 const std::string& doc_text) const {
  const std::uint64_t fp = model_.fingerprint();
  const std::uint64_t h = fnv1a64(doc_text.data(), doc_text.size(), fnv1a64(&fp, sizeof(fp)));
  char name[32];
  std::snprintf(name, sizeof(name), "%016llx.state", static_cast<unsigned long long>(h));
  return dir / name;
}

std::vector<X070State> RerankPipeline::document_states(const std::vector<std::string>& documents,
                                                       const RerankOptions& o, const KernelTable& kt,
                                                       ThreadPool& pool) const {
  std::vector<X070State> states;
  states.reserve(documents.size());
  std::vector<std::vector<TokenId>> ids(documents.size());
  std::vector<std::filesystem::path> paths(documents.size());
  std::vector<SequenceRequest> todo;
  for (std::size_t i = 0; i < documents.size(); ++i) {
    const std::string text = o.templ.document_text(documents[i]);
    if (o.state_cache) {
      paths[i] = cache_path(*o.state_cache, text);
      if (std::filesystem::exists(paths[i])) {
        states.push_back(load_state(paths[i], model_.dims(), model_.fingerprint()));
        continue;
      }
    }
    states.push_back(model_.zero_state());
    ids[i] = encode_(text);
    todo.push_back({ids[i], &states[i], {}, nullptr});
  }
  model_.forward(todo, kt, pool, o.chunk_tokens);
  if (o.state_cache) {
    std::filesystem::create_directories(*o.state_cache);
    for (const SequenceRequest& r : todo) {
      const std::size_t i = static_cast<std::size_t>(r.state - states.data());
      save_state(paths[i], states[i], model_.fingerprint(), o.cache_dtype);
      // A reduced-precision cache must give the same scores now as on the next call.
      if (o.cache_dtype != StateDType::F32)
        states[i] = load_state(paths[i], model_.dims(), model_.fingerprint());
    }
  }
  return states;
}

std::vector<RerankResult> RerankPipeline::run_and_score(const std::vector<std::vector<TokenId>>& ids,
                                                        std::vector<X070State>& states,
                                                        const RerankOptions& o, const KernelTable& kt,
                                                        ThreadPool& pool) const {
  std::vector<SequenceRequest> reqs;
  for (std::size_t i = 0; i < ids.size(); ++i) reqs.push_back({ids[i], &states[i], {}, nullptr});
  model_.forward(reqs, kt, pool, o.chunk_tokens);
  std::vector<const X070State*> ptrs;
  for (const auto& s : states) ptrs.push_back(&s);
  const std::vector<float> logits = reranker_.logits(ptrs, kt, pool);
  std::vector<RerankResult> out;
  for (std::size_t i = 0; i < logits.size(); ++i) out.push_back({i, logits[i], sigmoid_score(logits[i])});
  return out;
}

std::vector<RerankResult> RerankPipeline::score_states(const std::string& query,
                                                       std::vector<X070State> states, const RerankOptions& o,
                                                       const KernelTable& kt, ThreadPool& pool) const {
  std::vector<TokenId> q = encode_(o.templ.query_text(query));
  q.push_back(kEos);
  return run_and_score(std::vector<std::vector<TokenId>>(states.size(), q), states, o, kt, pool);
}

std::vector<RerankResult> RerankPipeline::score(const std::string& query,
                                                const std::vector<std::string>& documents,
                                                const RerankOptions& o, const KernelTable& kt,
                                                ThreadPool& pool) const {
  if (documents.empty()) throw Error("rerank: no documents");
  if (o.offline) return score_states(query, document_states(documents, o, kt, pool), o, kt, pool);
  std::vector<std::vector<TokenId>> ids;
  for (const auto& d : documents) {
    ids.push_back(encode_(o.templ.online_text(d, query)));
    ids.back().push_back(kEos);
  }
  std::vector<X070State> states(documents.size(), model_.zero_state());
  return run_and_score(ids, states, o, kt, pool);
}

}  // namespace rwkv

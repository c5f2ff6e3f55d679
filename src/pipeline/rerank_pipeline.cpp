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

X070State RerankPipeline::document_state(const std::string& document, const RerankOptions& o,
                                         const KernelTable& kt, ThreadPool& pool) const {
  const std::string text = o.templ.document_text(document);
  std::filesystem::path path;
  if (o.state_cache) {
    path = cache_path(*o.state_cache, text);
    if (std::filesystem::exists(path)) return load_state(path, model_.dims(), model_.fingerprint());
  }
  const std::vector<TokenId> ids = tok_.encode(text);
  X070State st = model_.zero_state();
  SequenceRequest req{ids, &st, {}, nullptr};
  model_.forward({&req, 1}, kt, pool, o.chunk_tokens);
  if (o.state_cache) {
    std::filesystem::create_directories(*o.state_cache);
    save_state(path, st, model_.fingerprint(), o.cache_dtype);
    if (o.cache_dtype != StateDType::F32) return load_state(path, model_.dims(), model_.fingerprint());
  }
  return st;
}

std::vector<RerankResult> RerankPipeline::score(const std::string& query,
                                                const std::vector<std::string>& documents,
                                                const RerankOptions& o, const KernelTable& kt,
                                                ThreadPool& pool) const {
  if (documents.empty()) throw Error("rerank: no documents");
  std::vector<X070State> states;
  std::vector<std::vector<TokenId>> ids;
  states.reserve(documents.size());
  if (o.offline) {
    std::vector<TokenId> q = tok_.encode(o.templ.query_text(query));
    q.push_back(kEos);
    for (const auto& d : documents) {
      states.push_back(document_state(d, o, kt, pool));
      ids.push_back(q);
    }
  } else {
    for (const auto& d : documents) {
      ids.push_back(tok_.encode(o.templ.online_text(d, query)));
      ids.back().push_back(kEos);
      states.push_back(model_.zero_state());
    }
  }
  std::vector<SequenceRequest> reqs;
  for (std::size_t i = 0; i < documents.size(); ++i) reqs.push_back({ids[i], &states[i], {}, nullptr});
  model_.forward(reqs, kt, pool, o.chunk_tokens);
  std::vector<const X070State*> ptrs;
  for (const auto& s : states) ptrs.push_back(&s);
  const std::vector<float> logits = reranker_.logits(ptrs, kt, pool);
  std::vector<RerankResult> out;
  for (std::size_t i = 0; i < logits.size(); ++i) out.push_back({i, logits[i], sigmoid_score(logits[i])});
  return out;
}

}  // namespace rwkv

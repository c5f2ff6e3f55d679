// Helpers for the document index tests: deterministic synthetic documents, the golden models wrapped as
// index::IndexModels, and the brute-force reference pipeline (embed everything, exact cosine, online
// rerank) that search results are compared with.
#pragma once

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "golden_fixture.h"
#include "index/doc_index.h"
#include "model/x070_model.h"

namespace rwkv::test {

// n documents "doc<i>" of 4..40 words drawn from a small vocabulary (so texts share words and cosines
// spread), reproducible from `seed`.
inline std::vector<index::IndexDocument> synthetic_documents(int n, unsigned seed = 7) {
  static const char* words[] = {"apple",  "river",  "mountain", "neural",  "network", "state",    "recurrent",
                                "token",  "model",  "search",   "index",   "query",   "document", "cat",
                                "dog",    "house",  "music",    "physics", "ocean",   "forest",   "computer",
                                "memory", "vector", "language", "history", "light",   "energy",   "garden"};
  std::mt19937 rng(seed);
  std::vector<index::IndexDocument> docs;
  for (int i = 0; i < n; ++i) {
    index::IndexDocument d;
    d.id = "doc" + std::to_string(i);
    const int len = 4 + static_cast<int>(rng() % 37);
    for (int w = 0; w < len; ++w) {
      if (w) d.text += ' ';
      d.text += words[rng() % (sizeof(words) / sizeof(words[0]))];
    }
    if (i % 5 == 0) d.title = "Title " + std::to_string(i);
    docs.push_back(std::move(d));
  }
  return docs;
}

inline std::string documents_jsonl(const std::vector<index::IndexDocument>& docs) {
  std::string out;
  for (const auto& d : docs) {
    nlohmann::json j = {{"id", d.id}, {"text", d.text}};
    if (!d.title.empty()) j["title"] = d.title;
    out += j.dump() + "\n";
  }
  return out;
}

// The golden embedding model (bf16 file) with a golden reranker and the World vocab.
struct GoldenIndexModels {
  explicit GoldenIndexModels(const std::string& reranker_file = "reranker-b.bf16.pth") {
    const auto& g = golden_models();
    tok = std::make_unique<WorldTokenizer>(WorldTokenizer::load(vocab_path()));
    auto rr_ckpt = std::make_shared<const Checkpoint>(Checkpoint::open(golden(reranker_file)));
    reranker = std::make_unique<StateReranker>(rr_ckpt, g.bf16->model().dims());
    m.embedder = g.bf16.get();
    m.reranker = reranker.get();
    const WorldTokenizer* t = tok.get();
    m.encode = [t](std::string_view s) { return t->encode(s); };
    m.model_path = golden("emb-model.bf16.pth").string();
    m.reranker_path = golden(reranker_file).string();
    m.reranker_fingerprint = checkpoint_fingerprint(*rr_ckpt, "reranker.");
    m.tokenizer_fingerprint = index::tokenizer_fingerprint(*tok);
  }
  std::unique_ptr<WorldTokenizer> tok;
  std::unique_ptr<StateReranker> reranker;
  index::IndexModels m;
};

}  // namespace rwkv::test

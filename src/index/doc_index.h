// DocumentIndex: retrieval over documents whose embeddings and reranking states were computed once.
// The LMDB DocumentStore is the source of truth; the AnnIndex over the embeddings is derived from it
// (loaded from its saved file and caught up, or rebuilt, on open). Adding documents runs the embedding
// model twice per batch (the [RETR] embedding of the text, and the offline-rerank document state after
// the document template), then commits the batch in one transaction. Searching embeds the query, takes
// the top-k by cosine and reranks them from their cached states, all candidates advancing through the
// query tokens together (RerankPipeline::score_states). Not thread-safe: callers serialise.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "index/ann_index.h"
#include "index/dir_lock.h"
#include "index/doc_store.h"
#include "pipeline/embedder.h"
#include "pipeline/rerank_pipeline.h"
#include "tokenizer/world_tokenizer.h"

namespace rwkv::index {

// The models an index is used with, and what identifies them in the header.
struct IndexModels {
  const Embedder* embedder = nullptr;
  const StateReranker* reranker = nullptr;  // null: search without reranking only
  TextEncoder encode;
  std::string model_path, reranker_path;
  std::uint64_t reranker_fingerprint = 0;   // checkpoint_fingerprint(reranker, "reranker.")
  std::uint64_t tokenizer_fingerprint = 0;  // tokenizer_fingerprint() of the vocab used by encode
  // A header describing these models (to create an index, or to check one against).
  IndexHeader header(const RerankTemplate& templ, StateCodec codec) const;
};

// A fingerprint of the World vocabulary (every token's bytes).
std::uint64_t tokenizer_fingerprint(const WorldTokenizer& tok);

struct IndexDocument {
  std::string id, title, text;
  nlohmann::json metadata;   // optional extra JSON stored with the document (null = none)
  std::string body() const;  // the text the models see: title + "\n" + text, or text alone
};

struct AddReport {
  std::vector<std::string> added, updated,
      skipped;                      // skipped: already stored (same or, without update, changed)
  std::size_t changed_skipped = 0;  // skipped although their content differs
  long tokens = 0;                  // document tokens run through the model (both passes)
};

struct SearchOptions {
  std::size_t top_k = 100;         // candidates from the vector index
  std::size_t top_n = 10;          // results returned
  bool rerank = true;              // rerank the candidates from their cached states
  std::size_t ef = 256;            // HNSW beam width (at least top_k)
  std::size_t exact_below = 4096;  // exact cosine scan when the index holds at most this many documents
  std::size_t rerank_batch = 128;  // candidates advanced through the query together (bounds memory)
  int chunk_tokens = 256;
};

struct SearchHit {
  std::string id;
  std::uint64_t key = 0;
  float embedding_score = 0;          // cosine of query and document embeddings
  std::optional<float> logit, score;  // reranker logit and sigmoid score (when reranked)
  nlohmann::json meta;                // title, text, metadata
};

struct IndexStats {
  std::size_t documents = 0, ann_live = 0, ann_removed = 0;
  std::uint64_t last_seq = 0, ann_seq = 0;
  std::uintmax_t store_bytes = 0, ann_bytes = 0;
  nlohmann::json to_json() const;
};

class DocumentIndex {
 public:
  enum class Mode { Read, Write };
  // Opens the index in `dir`: Write takes the writer lock and creates the directory if needed. If the
  // store has a header, the ANN index is loaded and brought up to date (`log` receives notices such as a
  // rebuild). Throws rwkv::Error on a locked, corrupt or foreign directory.
  DocumentIndex(const std::filesystem::path& dir, Mode mode,
                std::function<void(const std::string&)> log = {});
  ~DocumentIndex();

  bool has_header() const { return header_.has_value(); }
  const IndexHeader& header() const;
  // Gives a new index its header (Write mode, no header yet).
  void init(const IndexHeader& h);
  const DocumentStore& store() const { return *store_; }

  // Computes and stores a batch of documents (one transaction). Ids already stored are skipped unless
  // `update` and their content changed, in which case they are replaced. Duplicate ids within the batch:
  // the first one counts.
  AddReport add(const std::vector<IndexDocument>& docs, const IndexModels& m, bool update,
                const KernelTable& kt, ThreadPool& pool, int chunk_tokens);
  // Copies every document of `src` that this index does not hold (same models and templates; the states
  // are re-encoded in this index's state dtype), `batch` documents per transaction. Returns the count.
  std::size_t import_from(const DocumentIndex& src, std::size_t batch = 64);
  // Removes documents by id; returns the ids that were stored.
  std::vector<std::string> remove(const std::vector<std::string>& ids);

  std::vector<SearchHit> search(const std::string& query, const SearchOptions& o, const IndexModels& m,
                                const KernelTable& kt, ThreadPool& pool) const;
  // Reranks stored documents by id from their cached states; results in the order of `ids`. Throws
  // rwkv::Error listing unknown ids.
  std::vector<SearchHit> rerank_ids(const std::string& query, const std::vector<std::string>& ids,
                                    const SearchOptions& o, const IndexModels& m, const KernelTable& kt,
                                    ThreadPool& pool) const;

  // Saves the ANN index if it changed since it was loaded or saved (Write mode), compacting it first when
  // removed vectors outnumber live ones, then forgets the removal log it covers.
  void save_ann();
  bool ann_dirty() const;
  IndexStats stats() const;
  const AnnIndex& ann() const { return *ann_; }

 private:
  void load_ann();
  void rebuild_ann(const std::string& why);
  void score_keys(const std::string& query, std::vector<SearchHit>& hits, const SearchOptions& o,
                  const IndexModels& m, const KernelTable& kt, ThreadPool& pool) const;

  std::filesystem::path dir_;
  Mode mode_;
  std::function<void(const std::string&)> log_;
  std::unique_ptr<DirLock> lock_;
  std::unique_ptr<DocumentStore> store_;
  std::optional<IndexHeader> header_;
  std::unique_ptr<AnnIndex> ann_;
  std::uint64_t ann_seq_ = 0;               // store sequence number the ANN reflects
  std::optional<std::uint64_t> saved_seq_;  // sequence number of the saved ANN file, if it is current
};

}  // namespace rwkv::index

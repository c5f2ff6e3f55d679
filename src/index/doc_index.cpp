// DocumentIndex: adding, removing and searching documents; keeping the ANN index in step with the store.
#include "index/doc_index.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "model/x070_model.h"
#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv::index {

namespace {

std::string content_hash(const IndexDocument& d) {
  const std::string meta = d.metadata.is_null() ? "" : d.metadata.dump();
  std::uint64_t h = fnv1a64(d.title.data(), d.title.size());
  const char sep = '\0';
  h = fnv1a64(&sep, 1, h);
  h = fnv1a64(d.text.data(), d.text.size(), h);
  h = fnv1a64(&sep, 1, h);
  h = fnv1a64(meta.data(), meta.size(), h);
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::uintmax_t file_size_or_zero(const std::filesystem::path& p) {
  std::error_code ec;
  const auto n = std::filesystem::file_size(p, ec);
  return ec ? 0 : n;
}

// Ranking of reranked hits: logit, then embedding score, then key (deterministic).
bool rank_before(const SearchHit& a, const SearchHit& b) {
  const float la = a.logit.value_or(a.embedding_score), lb = b.logit.value_or(b.embedding_score);
  if (la != lb) return la > lb;
  if (a.embedding_score != b.embedding_score) return a.embedding_score > b.embedding_score;
  return a.key < b.key;
}

}  // namespace

IndexHeader IndexModels::header(const RerankTemplate& templ, StateCodec codec) const {
  if (!embedder) throw Error("index: no embedding model");
  IndexHeader h;
  h.model_path = model_path;
  h.reranker_path = reranker_path;
  h.model_fingerprint = embedder->model().fingerprint();
  h.reranker_fingerprint = reranker_fingerprint;
  h.tokenizer_fingerprint = tokenizer_fingerprint;
  h.dims = embedder->model().dims();
  h.templ = templ;
  h.state_codec = codec;
  return h;
}

std::uint64_t tokenizer_fingerprint(const WorldTokenizer& tok) {
  std::uint64_t h = fnv1a64("world", 5);
  for (std::size_t id = 1; id <= tok.vocab_size(); ++id) {
    try {
      const auto b = tok.token_bytes(static_cast<TokenId>(id));
      h = fnv1a64(b.data(), b.size(), fnv1a64(&id, sizeof id, h));
    } catch (const Error&) {
      // ids without bytes do not change the fingerprint
    }
  }
  return h;
}

std::string IndexDocument::body() const {
  return title.empty() ? text : str(title, "\n", text);
}

nlohmann::json IndexStats::to_json() const {
  return {{"documents", documents}, {"ann_live", ann_live}, {"ann_removed", ann_removed},
          {"last_seq", last_seq},   {"ann_seq", ann_seq},   {"store_bytes", store_bytes},
          {"ann_bytes", ann_bytes}};
}

DocumentIndex::DocumentIndex(const std::filesystem::path& dir, Mode mode,
                             std::function<void(const std::string&)> log)
    : dir_(dir), mode_(mode), log_(std::move(log)) {
  if (mode == Mode::Write) lock_ = std::make_unique<DirLock>(dir);
  store_ = std::make_unique<DocumentStore>(dir, mode == Mode::Read);
  header_ = store_->header();
  if (!header_ && mode == Mode::Read)
    throw Error(str(dir.string(), ": the index has no header (never initialised)"));
  if (header_) load_ann();
}

DocumentIndex::~DocumentIndex() = default;

const IndexHeader& DocumentIndex::header() const {
  if (!header_) throw Error(str(dir_.string(), ": the index has no header"));
  return *header_;
}

void DocumentIndex::init(const IndexHeader& h) {
  if (mode_ != Mode::Write) throw Error(str(dir_.string(), ": the index is open read-only"));
  store_->init_header(h);
  header_ = store_->header();
  ann_ = std::make_unique<AnnIndex>(h.dims.n_embd, h.hnsw_m, h.hnsw_ef_construction);
  ann_seq_ = store_->last_seq();
}

void DocumentIndex::rebuild_ann(const std::string& why) {
  const IndexHeader& h = header();
  const std::uint64_t seq = store_->last_seq();
  if (log_)
    log_(str(dir_.string(), ": rebuilding the vector index from ", store_->size(), " documents (", why, ")"));
  auto ann = std::make_unique<AnnIndex>(h.dims.n_embd, h.hnsw_m, h.hnsw_ef_construction);
  store_->for_each_record(0, h.dims.n_embd,
                          [&](std::uint64_t key, const DocRecord& r) { ann->add(key, r.embedding.data()); });
  ann_ = std::move(ann);
  ann_seq_ = seq;
  saved_seq_.reset();
}

void DocumentIndex::load_ann() {
  const IndexHeader& h = header();
  std::string why;
  auto loaded = AnnIndex::load(dir_, h.dims.n_embd, h.hnsw_m, h.hnsw_ef_construction, &why);
  const std::uint64_t last = store_->last_seq();
  if (loaded && loaded->seq > last) {
    why = "the saved vector index is newer than the store";
    loaded.reset();
  }
  if (!loaded) {
    // A missing file on a store that never saved one is normal (no notice for an empty store).
    if (store_->size() > 0 || why != "no saved ANN index") {
      rebuild_ann(why);
    } else {
      ann_ = std::make_unique<AnnIndex>(h.dims.n_embd, h.hnsw_m, h.hnsw_ef_construction);
      ann_seq_ = last;
    }
  } else {
    ann_ = std::move(loaded->index);
    saved_seq_ = loaded->seq;
    // Catch up: documents added and removed after the saved sequence number.
    store_->for_each_record(loaded->seq, h.dims.n_embd, [&](std::uint64_t key, const DocRecord& r) {
      ann_->add(key, r.embedding.data());
    });
    for (const std::uint64_t key : store_->removed_since(loaded->seq)) ann_->remove(key);
    ann_seq_ = last;
  }
  if (ann_->size() != store_->size())
    rebuild_ann(str("it holds ", ann_->size(), " documents, the store ", store_->size()));
}

bool DocumentIndex::ann_dirty() const {
  return !saved_seq_ || *saved_seq_ != ann_seq_;
}

void DocumentIndex::save_ann() {
  if (mode_ != Mode::Write || !header_ || !ann_dirty()) return;
  if (ann_->removed() > std::max<std::size_t>(1024, ann_->size())) rebuild_ann("compacting removed vectors");
  ann_->save(dir_, ann_seq_);
  saved_seq_ = ann_seq_;
  store_->prune_removed(ann_seq_);
}

IndexStats DocumentIndex::stats() const {
  IndexStats s;
  s.documents = store_->size();
  s.ann_live = ann_ ? ann_->size() : 0;
  s.ann_removed = ann_ ? ann_->removed() : 0;
  s.last_seq = store_->last_seq();
  s.ann_seq = ann_seq_;
  s.store_bytes = file_size_or_zero(dir_ / "data.mdb");
  s.ann_bytes = file_size_or_zero(dir_ / "ann.hnsw");
  return s;
}

AddReport DocumentIndex::add(const std::vector<IndexDocument>& docs, const IndexModels& m, bool update,
                             const KernelTable& kt, ThreadPool& pool, int chunk_tokens) {
  const IndexHeader& h = header();
  if (mode_ != Mode::Write) throw Error(str(dir_.string(), ": the index is open read-only"));
  if (!m.embedder || !m.reranker)
    throw Error("index: adding documents needs the embedding model and the reranker");
  AddReport report;
  std::vector<std::string> ids;
  for (const auto& d : docs) ids.push_back(d.id);
  const auto keys = store_->lookup(ids);
  std::vector<const IndexDocument*> todo;
  std::vector<std::string> hashes;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < docs.size(); ++i) {
    const IndexDocument& d = docs[i];
    if (!seen.insert(d.id).second) {
      report.skipped.push_back(d.id);
      continue;
    }
    const std::string hash = content_hash(d);
    if (keys[i]) {
      const auto rec = store_->record(*keys[i]);
      const bool changed = !rec || rec->meta.value("content_hash", "") != hash;
      if (!update || !changed) {
        report.skipped.push_back(d.id);
        if (changed) ++report.changed_skipped;
        continue;
      }
      report.updated.push_back(d.id);
    } else {
      report.added.push_back(d.id);
    }
    todo.push_back(&d);
    hashes.push_back(hash);
  }
  if (todo.empty()) return report;

  std::vector<std::string> bodies;
  std::vector<std::vector<TokenId>> seqs;
  for (const IndexDocument* d : todo) {
    bodies.push_back(d->body());
    seqs.push_back(policy_simple(m.encode(bodies.back())));
    report.tokens += static_cast<long>(seqs.back().size());
  }
  std::vector<EmbedInput> inputs;
  for (const auto& s : seqs) inputs.push_back({s});
  auto embeddings = m.embedder->embed(inputs, Task::Retr, true, kt, pool, chunk_tokens);
  RerankPipeline pipe(m.embedder->model(), *m.reranker, m.encode);
  RerankOptions ro;
  ro.offline = true;
  ro.templ = h.templ;
  ro.chunk_tokens = chunk_tokens;
  const auto states = pipe.document_states(bodies, ro, kt, pool);

  std::vector<NewDocument> batch;
  for (std::size_t i = 0; i < todo.size(); ++i) {
    DocRecord r;
    r.id = todo[i]->id;
    r.embedding = std::move(embeddings[i]);
    r.meta = {{"text", todo[i]->text}, {"tokens", seqs[i].size()}, {"content_hash", hashes[i]}};
    if (!todo[i]->title.empty()) r.meta["title"] = todo[i]->title;
    if (!todo[i]->metadata.is_null()) r.meta["metadata"] = todo[i]->metadata;
    batch.push_back({std::move(r), &states[i]});
  }
  const AddOutcome out = store_->add(batch, h, update);
  // The store has committed: bring the vector index along.
  for (const std::uint64_t key : out.replaced) ann_->remove(key);
  for (std::size_t i = 0; i < batch.size(); ++i) ann_->add(out.keys[i], batch[i].record.embedding.data());
  ann_seq_ = store_->last_seq();
  return report;
}

std::size_t DocumentIndex::import_from(const DocumentIndex& src, std::size_t batch) {
  const IndexHeader& h = header();
  if (mode_ != Mode::Write) throw Error(str(dir_.string(), ": the index is open read-only"));
  index::IndexHeader theirs = src.header();
  theirs.state_codec = h.state_codec;
  check_compatible(h, theirs, src.dir_.string());
  std::vector<std::uint64_t> keys;
  src.store().for_each_record(0, h.dims.n_embd,
                              [&](std::uint64_t key, const DocRecord&) { keys.push_back(key); });
  std::size_t copied = 0;
  for (std::size_t begin = 0; begin < keys.size(); begin += std::max<std::size_t>(1, batch)) {
    const std::vector<std::uint64_t> part(
        keys.begin() + static_cast<long>(begin),
        keys.begin() + static_cast<long>(std::min(keys.size(), begin + batch)));
    const auto states = src.store().states(part, src.header());
    std::vector<NewDocument> docs;
    for (std::size_t i = 0; i < part.size(); ++i) {
      auto rec = src.store().record(part[i]);
      if (!rec || store_->lookup({rec->id})[0]) continue;
      docs.push_back({std::move(*rec), &states[i]});
    }
    if (docs.empty()) continue;
    const AddOutcome out = store_->add(docs, h, false);
    for (std::size_t i = 0; i < docs.size(); ++i) ann_->add(out.keys[i], docs[i].record.embedding.data());
    ann_seq_ = store_->last_seq();
    copied += docs.size();
  }
  return copied;
}

std::vector<std::string> DocumentIndex::remove(const std::vector<std::string>& ids) {
  header();
  if (mode_ != Mode::Write) throw Error(str(dir_.string(), ": the index is open read-only"));
  std::vector<std::string> out;
  for (const auto& [id, key] : store_->remove(ids)) {
    ann_->remove(key);
    out.push_back(id);
  }
  ann_seq_ = store_->last_seq();
  return out;
}

void DocumentIndex::score_keys(const std::string& query, std::vector<SearchHit>& hits, const SearchOptions& o,
                               const IndexModels& m, const KernelTable& kt, ThreadPool& pool) const {
  if (!m.embedder || !m.reranker) throw Error("index: reranking needs the embedding model and the reranker");
  RerankPipeline pipe(m.embedder->model(), *m.reranker, m.encode);
  RerankOptions ro;
  ro.offline = true;
  ro.templ = header().templ;
  ro.chunk_tokens = o.chunk_tokens;
  const std::size_t group = std::max<std::size_t>(1, o.rerank_batch);
  for (std::size_t begin = 0; begin < hits.size(); begin += group) {
    const std::size_t end = std::min(hits.size(), begin + group);
    std::vector<std::uint64_t> keys;
    for (std::size_t i = begin; i < end; ++i) keys.push_back(hits[i].key);
    auto results = pipe.score_states(query, store_->states(keys, header(), &pool), ro, kt, pool);
    for (std::size_t i = begin; i < end; ++i) {
      hits[i].logit = results[i - begin].logit;
      hits[i].score = results[i - begin].score;
    }
  }
}

std::vector<SearchHit> DocumentIndex::search(const std::string& query, const SearchOptions& o,
                                             const IndexModels& m, const KernelTable& kt,
                                             ThreadPool& pool) const {
  const IndexHeader& h = header();
  if (!m.embedder) throw Error("index: search needs the embedding model");
  const auto q = policy_simple(m.encode(query));
  EmbedInput in{q};
  const auto qvec = m.embedder->embed({&in, 1}, Task::Retr, true, kt, pool, o.chunk_tokens)[0];
  if (static_cast<int>(qvec.size()) != h.dims.n_embd)
    throw Error("index: query embedding has the wrong size");
  const auto found = ann_->search(qvec.data(), o.top_k, o.ef, ann_->size() <= o.exact_below);
  std::vector<SearchHit> hits;
  for (const AnnHit& a : found) {
    auto rec = store_->record(a.key);
    if (!rec) continue;  // removed by another process since the vector index was loaded
    hits.push_back({rec->id, a.key, a.score, std::nullopt, std::nullopt, std::move(rec->meta)});
  }
  if (o.rerank) {
    score_keys(query, hits, o, m, kt, pool);
    std::stable_sort(hits.begin(), hits.end(), rank_before);
  }
  if (o.top_n > 0 && hits.size() > o.top_n) hits.resize(o.top_n);
  return hits;
}

std::vector<SearchHit> DocumentIndex::rerank_ids(const std::string& query,
                                                 const std::vector<std::string>& ids, const SearchOptions& o,
                                                 const IndexModels& m, const KernelTable& kt,
                                                 ThreadPool& pool) const {
  const auto keys = store_->lookup(ids);
  std::string missing;
  std::vector<SearchHit> hits;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (!keys[i]) {
      missing += missing.empty() ? "'" + ids[i] + "'" : ", '" + ids[i] + "'";
      continue;
    }
    auto rec = store_->record(*keys[i]);
    if (!rec)
      throw Error(str(dir_.string(), ": document '", ids[i], "' has no record (the store is inconsistent)"));
    hits.push_back({ids[i], *keys[i], 0.0f, std::nullopt, std::nullopt, std::move(rec->meta)});
  }
  if (!missing.empty()) throw Error(str("unknown document ids: ", missing));
  score_keys(query, hits, o, m, kt, pool);
  return hits;
}

}  // namespace rwkv::index

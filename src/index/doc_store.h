// DocumentStore: the source of truth of a document index, an LMDB environment with five tables
// (docs/index-format.md): meta (header, last sequence number), docs (id -> key), records (key -> id,
// embedding, metadata), states (key -> encoded document state) and deleted (sequence number -> key of a
// removed document). Keys are sequence numbers, never reused; a removal takes a sequence number too, so
// "everything after sequence S" tells a saved ANN index what it misses. Each add/remove call is one
// transaction: it is committed whole or not at all.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "index/index_format.h"
#include "index/lmdb_env.h"
#include "model/x070_state.h"
#include "util/thread_pool.h"

namespace rwkv::index {

struct NewDocument {
  DocRecord record;
  const X070State* state;
};

struct AddOutcome {
  std::vector<std::uint64_t> keys;      // per document, in order
  std::vector<std::uint64_t> replaced;  // keys of older versions removed (replace = true)
};

class DocumentStore {
 public:
  // Opens (or, writable, creates) the store in `dir`. A writable store must be guarded by a DirLock.
  DocumentStore(const std::filesystem::path& dir, bool read_only);

  const std::filesystem::path& dir() const { return env_.dir(); }
  bool read_only() const { return env_.read_only(); }

  std::optional<IndexHeader> header() const;  // nullopt for a store that has none yet
  void init_header(const IndexHeader& h);     // throws if a header exists
  std::uint64_t last_seq() const;
  std::size_t size() const;

  // Key of each id, or nullopt if not stored.
  std::vector<std::optional<std::uint64_t>> lookup(const std::vector<std::string>& ids) const;
  std::optional<DocRecord> record(std::uint64_t key) const;

  // Stores documents (ids must be distinct). An id already stored is an error unless `replace`, which
  // removes the stored version in the same transaction.
  AddOutcome add(const std::vector<NewDocument>& docs, const IndexHeader& h, bool replace);
  // Removes the stored ids (others are ignored); returns (id, key) of each one removed.
  std::vector<std::pair<std::string, std::uint64_t>> remove(const std::vector<std::string>& ids);

  // Visits document records with key > after_key in key order (embedding and id; no metadata).
  void for_each_record(std::uint64_t after_key, int dim,
                       const std::function<void(std::uint64_t key, const DocRecord&)>& f) const;
  // Keys removed with a sequence number > after_seq.
  std::vector<std::uint64_t> removed_since(std::uint64_t after_seq) const;
  // Forgets removal entries with sequence numbers <= upto (once a saved ANN index reflects them).
  void prune_removed(std::uint64_t upto);

  // Decodes the states of `keys` (one read transaction); throws naming the document on damage. With a
  // pool, the records are checked and decoded in parallel (the result is the same).
  std::vector<X070State> states(const std::vector<std::uint64_t>& keys, const IndexHeader& h,
                                ThreadPool* pool = nullptr) const;

 private:
  std::string where(const LmdbTxn& txn, std::uint64_t key) const;
  LmdbEnv env_;
};

}  // namespace rwkv::index

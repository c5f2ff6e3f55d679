// AnnIndex: the vector index over document embeddings (cosine = inner product of L2-normalised
// vectors), an HNSW graph from hnswlib, keyed by the document's store key. It is derived data: saved
// next to the store with the store sequence number it reflects (ann.hnsw + ann.meta with a CRC-32), and
// rebuilt or caught up from the store when it is missing, damaged or behind (DocumentIndex does that).
// Below a size threshold search is exact (a scan of the stored vectors). Not thread-safe: callers
// serialise (search sets the HNSW beam width).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rwkv::index {

struct AnnHit {
  std::uint64_t key;
  float score;  // inner product (cosine for normalised vectors)
};

class AnnIndex {
 public:
  AnnIndex(int dim, int m, int ef_construction);
  ~AnnIndex();
  AnnIndex(const AnnIndex&) = delete;
  AnnIndex& operator=(const AnnIndex&) = delete;

  int dim() const { return dim_; }
  void add(std::uint64_t key, const float* vec);  // a key already present is replaced
  bool remove(std::uint64_t key);                 // false if absent or already removed
  bool contains(std::uint64_t key) const;
  std::size_t size() const;                 // live vectors
  std::size_t removed() const;              // vectors marked removed (still in the graph until a rebuild)
  std::vector<std::uint64_t> keys() const;  // live keys, ascending

  // The k best live vectors, best first (ties: smaller key first). exact = scan everything; otherwise
  // HNSW with beam width max(ef, k).
  std::vector<AnnHit> search(const float* query, std::size_t k, std::size_t ef, bool exact) const;

  // Writes dir/ann.hnsw and dir/ann.meta (temporary files, fsync, rename), recording `seq`.
  void save(const std::filesystem::path& dir, std::uint64_t seq) const;
  // Loads dir/ann.hnsw if ann.meta vouches for it (same dimension and parameters, size and CRC-32 match).
  // Otherwise returns nullopt and sets *why (absent, damaged, ...): the caller rebuilds.
  struct Loaded {
    std::unique_ptr<AnnIndex> index;
    std::uint64_t seq;
  };
  static std::optional<Loaded> load(const std::filesystem::path& dir, int dim, int m, int ef_construction,
                                    std::string* why);

 private:
  struct Impl;
  int dim_, m_, ef_construction_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rwkv::index

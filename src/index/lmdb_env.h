// A thin RAII layer over LMDB for the document index: one environment (a directory holding data.mdb and
// lock.mdb) with named sub-databases, read and write transactions, and LMDB error codes turned into
// rwkv::Error messages that name the directory. The map grows on demand (MDB_MAP_FULL is retried by
// the caller through LmdbEnv::write). Every committed write transaction is durable (LMDB syncs on
// commit), so a process killed at any moment leaves the last committed state.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct MDB_env;
struct MDB_txn;
struct MDB_cursor;

namespace rwkv::index {

using Bytes = std::span<const std::byte>;

inline std::string_view as_chars(Bytes b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline Bytes as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

class LmdbEnv;

// A transaction; read-only ones may be used from any thread (MDB_NOTLS), one thread at a time.
class LmdbTxn {
 public:
  LmdbTxn(LmdbTxn&& o) noexcept : env_(o.env_), txn_(o.txn_) { o.txn_ = nullptr; }
  LmdbTxn(const LmdbTxn&) = delete;
  LmdbTxn& operator=(const LmdbTxn&) = delete;
  ~LmdbTxn();

  // Values point into the memory map and stay valid until the transaction ends.
  std::optional<Bytes> get(unsigned dbi, Bytes key) const;
  void put(unsigned dbi, Bytes key, Bytes value);
  // Reserves `size` bytes for the value and returns where to write them (no extra copy).
  std::byte* reserve(unsigned dbi, Bytes key, std::size_t size);
  bool del(unsigned dbi, Bytes key);  // false if the key was absent
  std::size_t count(unsigned dbi) const;
  // Visits entries with key >= from (all when from is empty) in key order until f returns false.
  void scan(unsigned dbi, Bytes from, const std::function<bool(Bytes key, Bytes value)>& f) const;
  void commit();

 private:
  friend class LmdbEnv;
  LmdbTxn(const LmdbEnv* env, MDB_txn* txn) : env_(env), txn_(txn) {}
  const LmdbEnv* env_;
  MDB_txn* txn_;
};

class LmdbEnv {
 public:
  // Opens (read_only) or opens/creates the environment in `dir` with the given named databases; their
  // handles are the indices into `db_names`. A read-only open of a directory without data.mdb fails.
  LmdbEnv(const std::filesystem::path& dir, bool read_only, const std::vector<std::string>& db_names);
  ~LmdbEnv();
  LmdbEnv(const LmdbEnv&) = delete;
  LmdbEnv& operator=(const LmdbEnv&) = delete;

  LmdbTxn read() const;
  // Runs f in a write transaction and commits it. If the map is full, the transaction is aborted, the
  // map doubled and f run again, so f must only depend on its inputs.
  void write(const std::function<void(LmdbTxn&)>& f);

  const std::filesystem::path& dir() const { return dir_; }
  bool read_only() const { return read_only_; }
  std::uint64_t map_size() const;

  // Throws rwkv::Error for a non-zero LMDB return code, naming the directory and the operation.
  void check(int rc, std::string_view what) const;

 private:
  friend class LmdbTxn;
  std::filesystem::path dir_;
  bool read_only_;
  MDB_env* env_ = nullptr;
  std::vector<unsigned> dbis_;
};

}  // namespace rwkv::index

// LmdbEnv / LmdbTxn: environment setup, map growth and error translation.
#include "index/lmdb_env.h"

#include <lmdb.h>

#include <cstring>

#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv::index {

namespace {

constexpr std::uint64_t kInitialMapSize = std::uint64_t{1} << 30;  // grows by doubling
constexpr unsigned kMaxDbs = 16;

MDB_val val(Bytes b) {
  return MDB_val{b.size(), const_cast<std::byte*>(b.data())};
}
Bytes bytes(const MDB_val& v) {
  return {static_cast<const std::byte*>(v.mv_data), v.mv_size};
}

struct MapFull {};

}  // namespace

void LmdbEnv::check(int rc, std::string_view what) const {
  if (rc == 0) return;
  std::string hint;
  if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH)
    hint = " (the store is corrupt or not an rwkv index)";
  throw Error(str(dir_.string(), ": LMDB ", what, " failed: ", mdb_strerror(rc), hint));
}

LmdbEnv::LmdbEnv(const std::filesystem::path& dir, bool read_only, const std::vector<std::string>& db_names)
    : dir_(dir), read_only_(read_only) {
  std::error_code ec;
  if (read_only) {
    if (!std::filesystem::exists(dir / "data.mdb", ec))
      throw Error(str(dir.string(), ": not an rwkv index (no data.mdb)"));
  } else {
    std::filesystem::create_directories(dir, ec);
    if (ec) throw Error(str(dir.string(), ": cannot create the index directory: ", ec.message()));
  }
  check(mdb_env_create(&env_), "env_create");
  try {
    check(mdb_env_set_maxdbs(env_, kMaxDbs), "set_maxdbs");
    std::uint64_t size = kInitialMapSize;
    const auto file = std::filesystem::file_size(dir / "data.mdb", ec);
    if (!ec)
      while (size < 2 * file) size *= 2;
    check(mdb_env_set_mapsize(env_, size), "set_mapsize");
    const unsigned flags = MDB_NOTLS | (read_only ? MDB_RDONLY : 0u);
    check(mdb_env_open(env_, dir.c_str(), flags, 0644), "open");
    // Create (writer) or look up (reader) the named databases.
    MDB_txn* txn = nullptr;
    check(mdb_txn_begin(env_, nullptr, read_only ? MDB_RDONLY : 0u, &txn), "txn_begin");
    for (const auto& name : db_names) {
      MDB_dbi dbi;
      const int rc = mdb_dbi_open(txn, name.c_str(), read_only ? 0u : MDB_CREATE, &dbi);
      if (rc != 0) {
        mdb_txn_abort(txn);
        if (rc == MDB_NOTFOUND) throw Error(str(dir.string(), ": not an rwkv index (no table '", name, "')"));
        check(rc, str("open table '", name, "'"));
      }
      dbis_.push_back(dbi);
    }
    check(mdb_txn_commit(txn), "commit");
  } catch (...) {
    mdb_env_close(env_);
    env_ = nullptr;
    throw;
  }
}

LmdbEnv::~LmdbEnv() {
  if (env_) mdb_env_close(env_);
}

std::uint64_t LmdbEnv::map_size() const {
  MDB_envinfo info;
  mdb_env_info(env_, &info);
  return info.me_mapsize;
}

LmdbTxn LmdbEnv::read() const {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
  if (rc == MDB_MAP_RESIZED) {  // another process grew the map: adopt its size
    check(mdb_env_set_mapsize(env_, 0), "set_mapsize");
    rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
  }
  check(rc, "read txn_begin");
  return LmdbTxn(this, txn);
}

void LmdbEnv::write(const std::function<void(LmdbTxn&)>& f) {
  if (read_only_) throw Error(str(dir_.string(), ": the index is open read-only"));
  for (int attempt = 0;; ++attempt) {
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
    if (rc == MDB_MAP_RESIZED) {
      check(mdb_env_set_mapsize(env_, 0), "set_mapsize");
      rc = mdb_txn_begin(env_, nullptr, 0, &txn);
    }
    check(rc, "write txn_begin");
    try {
      LmdbTxn t(this, txn);
      f(t);
      t.commit();
      return;
    } catch (const MapFull&) {
      if (attempt >= 12) throw Error(str(dir_.string(), ": LMDB map cannot grow further"));
      check(mdb_env_set_mapsize(env_, map_size() * 2), "grow map");
    }
  }
}

LmdbTxn::~LmdbTxn() {
  if (txn_) mdb_txn_abort(txn_);
}

void LmdbTxn::commit() {
  MDB_txn* t = txn_;
  txn_ = nullptr;
  const int rc = mdb_txn_commit(t);
  if (rc == MDB_MAP_FULL) throw MapFull{};
  env_->check(rc, "commit");
}

std::optional<Bytes> LmdbTxn::get(unsigned dbi, Bytes key) const {
  MDB_val k = val(key), v;
  const int rc = mdb_get(txn_, env_->dbis_[dbi], &k, &v);
  if (rc == MDB_NOTFOUND) return std::nullopt;
  env_->check(rc, "get");
  return bytes(v);
}

void LmdbTxn::put(unsigned dbi, Bytes key, Bytes value) {
  MDB_val k = val(key), v = val(value);
  const int rc = mdb_put(txn_, env_->dbis_[dbi], &k, &v, 0);
  if (rc == MDB_MAP_FULL) throw MapFull{};
  env_->check(rc, "put");
}

std::byte* LmdbTxn::reserve(unsigned dbi, Bytes key, std::size_t size) {
  MDB_val k = val(key), v{size, nullptr};
  const int rc = mdb_put(txn_, env_->dbis_[dbi], &k, &v, MDB_RESERVE);
  if (rc == MDB_MAP_FULL) throw MapFull{};
  env_->check(rc, "put");
  return static_cast<std::byte*>(v.mv_data);
}

bool LmdbTxn::del(unsigned dbi, Bytes key) {
  MDB_val k = val(key);
  const int rc = mdb_del(txn_, env_->dbis_[dbi], &k, nullptr);
  if (rc == MDB_NOTFOUND) return false;
  if (rc == MDB_MAP_FULL) throw MapFull{};
  env_->check(rc, "del");
  return true;
}

std::size_t LmdbTxn::count(unsigned dbi) const {
  MDB_stat st;
  env_->check(mdb_stat(txn_, env_->dbis_[dbi], &st), "stat");
  return st.ms_entries;
}

void LmdbTxn::scan(unsigned dbi, Bytes from, const std::function<bool(Bytes, Bytes)>& f) const {
  MDB_cursor* c = nullptr;
  env_->check(mdb_cursor_open(txn_, env_->dbis_[dbi], &c), "cursor_open");
  struct Close {
    MDB_cursor* c;
    ~Close() { mdb_cursor_close(c); }
  } closer{c};
  MDB_val k = val(from), v;
  int rc = from.empty() ? mdb_cursor_get(c, &k, &v, MDB_FIRST) : mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
  while (rc == 0) {
    if (!f(bytes(k), bytes(v))) return;
    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
  }
  if (rc != MDB_NOTFOUND) env_->check(rc, "cursor_get");
}

}  // namespace rwkv::index

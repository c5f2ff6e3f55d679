// DocumentStore: the LMDB tables of a document index and their transactions.
#include "index/doc_store.h"

#include <cstring>

#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv::index {

namespace {

constexpr std::string_view kHeaderKey = "header", kLastSeqKey = "last_seq";
constexpr std::size_t kMaxIdBytes = 511;  // LMDB's key size limit

Bytes view(const std::array<std::byte, 8>& a) {
  return {a.data(), a.size()};
}

std::uint64_t read_last_seq(const LmdbTxn& t, const std::string& dir) {
  const auto v = t.get(kMeta, as_bytes(kLastSeqKey));
  if (!v) return 0;
  const auto seq = u64_from_value(*v);
  if (!seq) throw Error(str(dir, ": the last_seq record is damaged"));
  return *seq;
}

}  // namespace

DocumentStore::DocumentStore(const std::filesystem::path& dir, bool read_only)
    : env_(dir, read_only, table_names()) {}

std::string DocumentStore::where(const LmdbTxn& txn, std::uint64_t key) const {
  std::string w = str(dir().string(), ": document key ", key);
  if (auto v = txn.get(kRecords, view(key_bytes(key)))) {
    // The id is stored after the embedding; read it without checking the rest.
    if (v->size() >= 16) {
      std::uint32_t n, id_len;
      std::memcpy(&n, v->data() + 4, 4);
      std::memcpy(&id_len, v->data() + 8, 4);
      if (16 + std::uint64_t{n} * 4 + id_len <= v->size())
        w = str(dir().string(), ": document '", as_chars(v->subspan(16 + std::size_t{n} * 4, id_len)), "'");
    }
  }
  return w;
}

std::optional<IndexHeader> DocumentStore::header() const {
  auto t = env_.read();
  const auto v = t.get(kMeta, as_bytes(kHeaderKey));
  if (!v) return std::nullopt;
  const auto s = as_chars(*v);
  const auto j = nlohmann::json::parse(s.begin(), s.end(), nullptr, false);
  if (j.is_discarded()) throw Error(str(dir().string(), ": the index header is not valid JSON (corrupt)"));
  return IndexHeader::from_json(j, dir().string());
}

void DocumentStore::init_header(const IndexHeader& h) {
  const std::string s = h.to_json().dump();
  env_.write([&](LmdbTxn& t) {
    if (t.get(kMeta, as_bytes(kHeaderKey)))
      throw Error(str(dir().string(), ": the index already has a header"));
    t.put(kMeta, as_bytes(kHeaderKey), as_bytes(s));
    t.put(kMeta, as_bytes(kLastSeqKey), view(u64_value(0)));
  });
}

std::uint64_t DocumentStore::last_seq() const {
  auto t = env_.read();
  return read_last_seq(t, dir().string());
}

std::size_t DocumentStore::size() const {
  return env_.read().count(kDocs);
}

std::vector<std::optional<std::uint64_t>> DocumentStore::lookup(const std::vector<std::string>& ids) const {
  auto t = env_.read();
  std::vector<std::optional<std::uint64_t>> out;
  for (const auto& id : ids) {
    std::optional<std::uint64_t> key;
    if (!id.empty() && id.size() <= kMaxIdBytes)
      if (auto v = t.get(kDocs, as_bytes(id))) {
        key = u64_from_value(*v);
        if (!key) throw Error(str(dir().string(), ": the docs entry of '", id, "' is damaged"));
      }
    out.push_back(key);
  }
  return out;
}

std::optional<DocRecord> DocumentStore::record(std::uint64_t key) const {
  auto t = env_.read();
  const auto v = t.get(kRecords, view(key_bytes(key)));
  if (!v) return std::nullopt;
  try {
    return decode_record(*v, -1, "record", true);
  } catch (const Error& e) {
    throw Error(str(where(t, key), ": ", e.what()));
  }
}

AddOutcome DocumentStore::add(const std::vector<NewDocument>& docs, const IndexHeader& h, bool replace) {
  for (const auto& d : docs) {
    if (d.record.id.empty() || d.record.id.size() > kMaxIdBytes)
      throw Error(str("document id '", d.record.id, "' must be 1 to ", kMaxIdBytes, " bytes"));
    if (static_cast<int>(d.record.embedding.size()) != h.dims.n_embd || !d.state || !d.state->matches(h.dims))
      throw Error(str("document '", d.record.id, "': embedding or state does not match the index"));
  }
  const std::size_t state_size = state_record_size(h.dims, h.state_codec);
  AddOutcome out;
  env_.write([&](LmdbTxn& t) {
    out = {};
    std::uint64_t seq = read_last_seq(t, dir().string());
    for (const auto& d : docs) {
      const Bytes id = as_bytes(d.record.id);
      if (auto old = t.get(kDocs, id)) {
        if (!replace) throw Error(str("document '", d.record.id, "' is already stored"));
        const auto old_key = u64_from_value(*old).value_or(0);
        t.del(kRecords, view(key_bytes(old_key)));
        t.del(kStates, view(key_bytes(old_key)));
        t.put(kDeleted, view(key_bytes(++seq)), view(u64_value(old_key)));
        out.replaced.push_back(old_key);
      }
      const std::uint64_t key = ++seq;
      t.put(kDocs, id, view(u64_value(key)));
      const std::string rec = encode_record(d.record);
      t.put(kRecords, view(key_bytes(key)), as_bytes(rec));
      std::byte* dst = t.reserve(kStates, view(key_bytes(key)), state_size);
      encode_state_record(*d.state, h.state_codec, dst, state_size);
      out.keys.push_back(key);
    }
    t.put(kMeta, as_bytes(kLastSeqKey), view(u64_value(seq)));
  });
  return out;
}

std::vector<std::pair<std::string, std::uint64_t>> DocumentStore::remove(
    const std::vector<std::string>& ids) {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  env_.write([&](LmdbTxn& t) {
    out.clear();
    std::uint64_t seq = read_last_seq(t, dir().string());
    for (const auto& id : ids) {
      if (id.empty() || id.size() > kMaxIdBytes) continue;
      const auto v = t.get(kDocs, as_bytes(id));
      if (!v) continue;
      const auto key = u64_from_value(*v).value_or(0);
      t.del(kDocs, as_bytes(id));
      t.del(kRecords, view(key_bytes(key)));
      t.del(kStates, view(key_bytes(key)));
      t.put(kDeleted, view(key_bytes(++seq)), view(u64_value(key)));
      out.emplace_back(id, key);
    }
    t.put(kMeta, as_bytes(kLastSeqKey), view(u64_value(seq)));
  });
  return out;
}

void DocumentStore::for_each_record(std::uint64_t after_key, int dim,
                                    const std::function<void(std::uint64_t, const DocRecord&)>& f) const {
  auto t = env_.read();
  const auto from = key_bytes(after_key + 1);
  t.scan(kRecords, view(from), [&](Bytes k, Bytes v) {
    const std::uint64_t key = key_from_bytes(k);
    DocRecord r;
    try {
      r = decode_record(v, dim, "record", false);
    } catch (const Error& e) {
      throw Error(str(where(t, key), ": ", e.what()));
    }
    f(key, r);
    return true;
  });
}

std::vector<std::uint64_t> DocumentStore::removed_since(std::uint64_t after_seq) const {
  auto t = env_.read();
  std::vector<std::uint64_t> out;
  const auto from = key_bytes(after_seq + 1);
  t.scan(kDeleted, view(from), [&](Bytes, Bytes v) {
    const auto key = u64_from_value(v);
    if (!key) throw Error(str(dir().string(), ": a removal log entry is damaged"));
    out.push_back(*key);
    return true;
  });
  return out;
}

void DocumentStore::prune_removed(std::uint64_t upto) {
  std::vector<std::array<std::byte, 8>> keys;
  {
    auto t = env_.read();
    t.scan(kDeleted, {}, [&](Bytes k, Bytes) {
      if (key_from_bytes(k) > upto) return false;
      std::array<std::byte, 8> a;
      std::copy(k.begin(), k.begin() + 8, a.begin());
      keys.push_back(a);
      return true;
    });
  }
  if (keys.empty()) return;
  env_.write([&](LmdbTxn& t) {
    for (const auto& k : keys) t.del(kDeleted, view(k));
  });
}

std::vector<X070State> DocumentStore::states(const std::vector<std::uint64_t>& keys, const IndexHeader& h,
                                             ThreadPool* pool) const {
  auto t = env_.read();
  std::vector<Bytes> records;  // views into the map, valid while `t` lives (on any thread)
  records.reserve(keys.size());
  for (const std::uint64_t key : keys) {
    const auto v = t.get(kStates, view(key_bytes(key)));
    if (!v) throw Error(str(where(t, key), ": no state record (the store is inconsistent)"));
    records.push_back(*v);
  }
  // Checksum and decode (and the first touch of each 2.25 MB state) per record; errors are collected and
  // the first one thrown here, named after its document.
  std::vector<X070State> out(keys.size());
  std::vector<std::string> errors(keys.size());
  auto decode = [&](std::size_t i, int) {
    try {
      out[i] = X070State(h.dims);
      decode_state_record(records[i], h.state_codec, out[i], "state");
    } catch (const std::exception& e) {
      errors[i] = e.what();
    }
  };
  if (pool) {
    pool->run_tasks(keys.size(), decode);
  } else {
    for (std::size_t i = 0; i < keys.size(); ++i) decode(i, 0);
  }
  for (std::size_t i = 0; i < keys.size(); ++i)
    if (!errors[i].empty()) throw Error(str(where(t, keys[i]), ": ", errors[i]));
  return out;
}

}  // namespace rwkv::index

// The on-disk format of a document index, version 1 (docs/index-format.md): the header record that
// identifies the models, tokenizer, templates and state encoding the index was built with, and the binary
// layout of document records and state records, each with a CRC-32 so a damaged value is reported
// (naming the document) instead of being used.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "index/lmdb_env.h"
#include "index/state_codec.h"
#include "model/x070_weights.h"
#include "pipeline/preprocess.h"

namespace rwkv::index {

inline constexpr int kFormatVersion = 1;

// LMDB tables (named databases), in the order LmdbEnv handles them.
enum Table : unsigned { kMeta = 0, kDocs = 1, kRecords = 2, kStates = 3, kDeleted = 4 };
const std::vector<std::string>& table_names();

// What an index was built with. Two indexes (or an index and a set of loaded models) are compatible
// when every fingerprint, the dimensions, the templates and the state encoding agree.
struct IndexHeader {
  int format_version = kFormatVersion;
  std::string model_path, reranker_path;  // as given when the index was created (absolute)
  std::uint64_t model_fingerprint = 0, reranker_fingerprint = 0, tokenizer_fingerprint = 0;
  X070Dims dims;
  RerankTemplate templ;
  StateCodec state_codec = StateCodec::F32;
  int hnsw_m = 16, hnsw_ef_construction = 200;

  std::uint64_t template_hash() const;
  nlohmann::json to_json() const;
  // Throws rwkv::Error naming `source` and the field on a missing or malformed field, or an unsupported
  // format version.
  static IndexHeader from_json(const nlohmann::json& j, const std::string& source);
};

// Throws rwkv::Error listing every difference between the index's header and `current` (what the
// caller loaded), e.g. "built with model fingerprint ..., this model is ...".
void check_compatible(const IndexHeader& index, const IndexHeader& current, const std::string& source);

// Keys of the record tables: the document's key (its sequence number) big-endian, so LMDB's byte order
// is numeric order.
std::array<std::byte, 8> key_bytes(std::uint64_t key);
std::uint64_t key_from_bytes(Bytes b);
std::array<std::byte, 8> u64_value(std::uint64_t v);  // little-endian value
std::optional<std::uint64_t> u64_from_value(Bytes b);

// A document record: the id, the L2-normalised [RETR] embedding and the metadata (title, text, extra).
struct DocRecord {
  std::string id;
  std::vector<float> embedding;
  nlohmann::json meta;  // {"title"?, "text", "metadata"?, "tokens", "content_hash"}
};
std::string encode_record(const DocRecord& r);
// Throws rwkv::Error naming `where` on a short value, a wrong version or dimension (dim < 0: any), or a
// bad checksum.
DocRecord decode_record(Bytes value, int dim, const std::string& where, bool with_meta = true);

// A state record: u32 codec | u32 reserved | encoded values | u32 CRC-32 of all that precedes.
std::size_t state_record_size(const X070Dims& d, StateCodec c);
void encode_state_record(const X070State& s, StateCodec c, std::byte* out, std::size_t size);
// Decodes into `s` (shaped for the model); throws naming `where` on a wrong codec, size or checksum.
void decode_state_record(Bytes value, StateCodec c, X070State& s, const std::string& where);

}  // namespace rwkv::index

// Document index format v1: header JSON, record layouts and their checksums.
#include "index/index_format.h"

#include <zlib.h>

#include <cstdio>
#include <cstring>

#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv::index {

namespace {

constexpr std::uint32_t kRecordVersion = 1;
constexpr std::size_t kRecordHeader = 4 * 4;

std::uint32_t crc(const std::byte* p, std::size_t n) {
  uLong c = crc32(0L, Z_NULL, 0);
  while (n > 0) {  // zlib takes uInt lengths
    const uInt chunk = static_cast<uInt>(std::min<std::size_t>(n, 1u << 30));
    c = crc32(c, reinterpret_cast<const Bytef*>(p), chunk);
    p += chunk;
    n -= chunk;
  }
  return static_cast<std::uint32_t>(c);
}

std::string hex64(std::uint64_t v) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

template <typename T>
T field(const nlohmann::json& j, const char* path, const std::string& source) {
  const nlohmann::json* v = &j;
  std::string p = path;
  for (std::size_t start = 0; start <= p.size();) {
    const std::size_t dot = std::min(p.find('.', start), p.size());
    const std::string part = p.substr(start, dot - start);
    if (!v->is_object() || !v->contains(part))
      throw Error(str(source, ": index header has no field '", path, "'"));
    v = &(*v)[part];
    start = dot + 1;
  }
  try {
    return v->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(str(source, ": index header field '", path, "' has the wrong type"));
  }
}

std::uint64_t hex_field(const nlohmann::json& j, const char* path, const std::string& source) {
  const std::string s = field<std::string>(j, path, source);
  if (s.size() != 16 || s.find_first_not_of("0123456789abcdef") != std::string::npos)
    throw Error(str(source, ": index header field '", path, "' is not a 16-digit hex fingerprint"));
  return std::stoull(s, nullptr, 16);
}

template <typename T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}
template <typename T>
T get(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace

const std::vector<std::string>& table_names() {
  static const std::vector<std::string> names = {"meta", "docs", "records", "states", "deleted"};
  return names;
}

std::uint64_t IndexHeader::template_hash() const {
  std::uint64_t h = fnv1a64(templ.document_part.data(), templ.document_part.size());
  const char sep = '\0';
  h = fnv1a64(&sep, 1, h);
  return fnv1a64(templ.query_part.data(), templ.query_part.size(), h);
}

nlohmann::json IndexHeader::to_json() const {
  return {
      {"format", "rwkv-document-index"},
      {"format_version", format_version},
      {"model",
       {{"path", model_path},
        {"fingerprint", hex64(model_fingerprint)},
        {"n_layer", dims.n_layer},
        {"n_embd", dims.n_embd},
        {"n_head", dims.n_head},
        {"head_size", dims.head_size}}},
      {"reranker", {{"path", reranker_path}, {"fingerprint", hex64(reranker_fingerprint)}}},
      {"tokenizer_fingerprint", hex64(tokenizer_fingerprint)},
      {"templates",
       {{"document", templ.document_part}, {"query", templ.query_part}, {"hash", hex64(template_hash())}}},
      {"embedding", {{"task", "[RETR]"}, {"policy", "simple"}, {"normalized", true}, {"dim", dims.n_embd}}},
      {"state_dtype", std::string(state_codec_name(state_codec))},
      {"ann",
       {{"type", "hnsw"},
        {"space", "inner_product"},
        {"M", hnsw_m},
        {"ef_construction", hnsw_ef_construction}}}};
}

IndexHeader IndexHeader::from_json(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object() || j.value("format", "") != "rwkv-document-index")
    throw Error(str(source, ": the header record is not an rwkv document index header"));
  IndexHeader h;
  h.format_version = field<int>(j, "format_version", source);
  if (h.format_version != kFormatVersion)
    throw Error(str(source, ": index format version ", h.format_version,
                    " is not supported (this build reads ", kFormatVersion, ")"));
  h.model_path = field<std::string>(j, "model.path", source);
  h.model_fingerprint = hex_field(j, "model.fingerprint", source);
  h.dims.n_layer = field<int>(j, "model.n_layer", source);
  h.dims.n_embd = field<int>(j, "model.n_embd", source);
  h.dims.n_head = field<int>(j, "model.n_head", source);
  h.dims.head_size = field<int>(j, "model.head_size", source);
  if (h.dims.n_layer <= 0 || h.dims.n_embd <= 0 || h.dims.n_head <= 0 || h.dims.head_size <= 0 ||
      h.dims.n_embd > (1 << 20) || h.dims.n_layer > 4096 || h.dims.head_size > 4096 ||
      h.dims.n_head * h.dims.head_size != h.dims.n_embd)
    throw Error(str(source, ": index header has inconsistent model dimensions"));
  h.reranker_path = field<std::string>(j, "reranker.path", source);
  h.reranker_fingerprint = hex_field(j, "reranker.fingerprint", source);
  h.tokenizer_fingerprint = hex_field(j, "tokenizer_fingerprint", source);
  h.templ.document_part = field<std::string>(j, "templates.document", source);
  h.templ.query_part = field<std::string>(j, "templates.query", source);
  if (hex_field(j, "templates.hash", source) != h.template_hash())
    throw Error(str(source, ": index header templates do not match their recorded hash (header corrupt)"));
  h.state_codec = parse_state_codec(field<std::string>(j, "state_dtype", source));
  h.hnsw_m = field<int>(j, "ann.M", source);
  h.hnsw_ef_construction = field<int>(j, "ann.ef_construction", source);
  if (h.hnsw_m < 2 || h.hnsw_m > 256 || h.hnsw_ef_construction < 1 || h.hnsw_ef_construction > 100000)
    throw Error(str(source, ": index header has out-of-range ANN parameters"));
  return h;
}

void check_compatible(const IndexHeader& index, const IndexHeader& current, const std::string& source) {
  std::string diff;
  auto add = [&](const std::string& s) { diff += diff.empty() ? s : "; " + s; };
  if (index.model_fingerprint != current.model_fingerprint)
    add(str("it was built with embedding model ", index.model_path, " (fingerprint ",
            hex64(index.model_fingerprint), "), this one is ", current.model_path, " (fingerprint ",
            hex64(current.model_fingerprint), ")"));
  else if (index.dims.n_layer != current.dims.n_layer || index.dims.n_embd != current.dims.n_embd ||
           index.dims.n_head != current.dims.n_head || index.dims.head_size != current.dims.head_size)
    add("the model dimensions differ");
  if (current.reranker_fingerprint != 0 && index.reranker_fingerprint != current.reranker_fingerprint)
    add(str("it was built for reranker ", index.reranker_path, " (fingerprint ",
            hex64(index.reranker_fingerprint), "), this one is ", current.reranker_path, " (fingerprint ",
            hex64(current.reranker_fingerprint), ")"));
  if (current.tokenizer_fingerprint != 0 && index.tokenizer_fingerprint != current.tokenizer_fingerprint)
    add(str("it was built with another tokenizer vocabulary (fingerprint ",
            hex64(index.tokenizer_fingerprint), ", now ", hex64(current.tokenizer_fingerprint), ")"));
  if (index.template_hash() != current.template_hash())
    add(str("it was built with other rerank templates (document '", index.templ.document_part, "', query '",
            index.templ.query_part, "')"));
  if (!diff.empty()) throw Error(str(source, ": this index does not fit the loaded models: ", diff));
}

std::array<std::byte, 8> key_bytes(std::uint64_t key) {
  std::array<std::byte, 8> b;
  for (int i = 0; i < 8; ++i) b[i] = static_cast<std::byte>(key >> (56 - 8 * i));
  return b;
}

std::uint64_t key_from_bytes(Bytes b) {
  std::uint64_t k = 0;
  for (std::size_t i = 0; i < 8 && i < b.size(); ++i) k = (k << 8) | static_cast<std::uint64_t>(b[i]);
  return k;
}

std::array<std::byte, 8> u64_value(std::uint64_t v) {
  std::array<std::byte, 8> b;
  std::memcpy(b.data(), &v, 8);
  return b;
}

std::optional<std::uint64_t> u64_from_value(Bytes b) {
  if (b.size() != 8) return std::nullopt;
  return get<std::uint64_t>(b.data());
}

std::string encode_record(const DocRecord& r) {
  const std::string meta = r.meta.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(kRecordHeader + r.embedding.size() * 4 + r.id.size() + meta.size() + 4);
  put(out, kRecordVersion);
  put(out, static_cast<std::uint32_t>(r.embedding.size()));
  put(out, static_cast<std::uint32_t>(r.id.size()));
  put(out, static_cast<std::uint32_t>(meta.size()));
  out.append(reinterpret_cast<const char*>(r.embedding.data()), r.embedding.size() * 4);
  out += r.id;
  out += meta;
  put(out, crc(reinterpret_cast<const std::byte*>(out.data()), out.size()));
  return out;
}

DocRecord decode_record(Bytes v, int dim, const std::string& where, bool with_meta) {
  if (v.size() < kRecordHeader + 4) throw Error(str(where, ": document record is truncated"));
  const std::byte* p = v.data();
  const auto version = get<std::uint32_t>(p), n = get<std::uint32_t>(p + 4);
  const auto id_len = get<std::uint32_t>(p + 8), meta_len = get<std::uint32_t>(p + 12);
  if (version != kRecordVersion)
    throw Error(str(where, ": document record version ", version, " is unknown"));
  if (dim >= 0 && static_cast<int>(n) != dim)
    throw Error(str(where, ": document record holds a ", n, "-dim embedding, the index is ", dim, "-dim"));
  const std::uint64_t size = kRecordHeader + std::uint64_t{n} * 4 + id_len + meta_len + 4;
  if (size != v.size()) throw Error(str(where, ": document record has the wrong size (corrupt)"));
  if (crc(p, v.size() - 4) != get<std::uint32_t>(p + v.size() - 4))
    throw Error(str(where, ": document record checksum mismatch (corrupt)"));
  DocRecord r;
  r.embedding.resize(n);
  std::memcpy(r.embedding.data(), p + kRecordHeader, std::size_t{n} * 4);
  const char* s = reinterpret_cast<const char*>(p + kRecordHeader + std::size_t{n} * 4);
  r.id.assign(s, id_len);
  if (with_meta) {
    r.meta = nlohmann::json::parse(s + id_len, s + id_len + meta_len, nullptr, false);
    if (r.meta.is_discarded()) throw Error(str(where, ": document metadata is not valid JSON (corrupt)"));
  }
  return r;
}

std::size_t state_record_size(const X070Dims& d, StateCodec c) {
  return 8 + encoded_state_size(d, c) + 4;
}

void encode_state_record(const X070State& s, StateCodec c, std::byte* out, std::size_t size) {
  const auto codec = static_cast<std::uint32_t>(c), reserved = std::uint32_t{0};
  std::memcpy(out, &codec, 4);
  std::memcpy(out + 4, &reserved, 4);
  encode_state(s, c, out + 8);
  const std::uint32_t sum = crc(out, size - 4);
  std::memcpy(out + size - 4, &sum, 4);
}

void decode_state_record(Bytes v, StateCodec c, X070State& s, const std::string& where) {
  if (v.size() < 12) throw Error(str(where, ": state record is truncated"));
  const auto codec = get<std::uint32_t>(v.data());
  if (codec != static_cast<std::uint32_t>(c))
    throw Error(str(where, ": state record is encoded as ", codec, ", the index header says ",
                    state_codec_name(c), " (corrupt)"));
  if (crc(v.data(), v.size() - 4) != get<std::uint32_t>(v.data() + v.size() - 4))
    throw Error(str(where, ": state record checksum mismatch (corrupt)"));
  if (!decode_state(v.subspan(8, v.size() - 12), c, s))
    throw Error(str(where, ": state record has ", v.size(), " bytes, expected ",
                    state_record_size({s.n_layer, s.n_embd, s.n_head, s.head_size}, c)));
}

}  // namespace rwkv::index

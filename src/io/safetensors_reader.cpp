// Reader for safetensors: 8-byte little-endian header length, a JSON header (name -> dtype, shape,
// data_offsets; optional "__metadata__" string map), then the raw data section. Every entry is checked
// for a known dtype, a sane shape, in-bounds offsets matching numel x dtype size, and no overlap.
#include <algorithm>

#include "io/byte_reader.h"
#include "io/loaded_tensors.h"
#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv::io {

namespace {

constexpr std::uint64_t kMaxHeader = 100ull << 20;

bool parse_dtype(const std::string& s, DType& out) {
  static constexpr std::pair<std::string_view, DType> kTable[] = {
      {"F64", DType::F64}, {"F32", DType::F32},  {"F16", DType::F16}, {"BF16", DType::BF16},
      {"I64", DType::I64}, {"I32", DType::I32},  {"I16", DType::I16}, {"I8", DType::I8},
      {"U8", DType::U8},   {"BOOL", DType::Bool}};
  for (const auto& [name, t] : kTable)
    if (name == s) return out = t, true;
  return false;
}

std::int64_t non_negative(const nlohmann::json& v, const std::string& what) {
  if (v.is_number_unsigned() && v.get<std::uint64_t>() <= static_cast<std::uint64_t>(INT64_MAX))
    return static_cast<std::int64_t>(v.get<std::uint64_t>());
  if (v.is_number_integer() && v.get<std::int64_t>() >= 0) return v.get<std::int64_t>();
  throw Error(str(what, " is not a non-negative integer: ", v.dump()));
}

struct Entry {
  TensorView view;
  std::int64_t begin, end;
};

}  // namespace

LoadedTensors read_safetensors(std::span<const std::byte> bytes, const std::string& name) {
  const std::string ctx = name + ": safetensors";
  if (bytes.size() < 8)
    throw Error(str(ctx, ": file too short (", bytes.size(), " bytes) for a header length"));
  const std::uint64_t header_len = load_le<std::uint64_t>(bytes, 0);
  if (header_len > kMaxHeader)
    throw Error(str(ctx, ": header length ", header_len, " exceeds the ", kMaxHeader,
                    "-byte cap (not a safetensors file?)"));
  if (!range_ok(8, header_len, bytes.size()))
    throw Error(
        str(ctx, ": header length ", header_len, " is longer than the file (", bytes.size(), " bytes)"));
  const auto* hp = reinterpret_cast<const char*>(bytes.data() + 8);
  const nlohmann::json header = nlohmann::json::parse(hp, hp + header_len, nullptr, false);
  if (header.is_discarded()) throw Error(str(ctx, ": header is not valid JSON (at byte offset 8)"));
  if (!header.is_object()) throw Error(str(ctx, ": header is not a JSON object"));
  const auto data = bytes.subspan(8 + header_len);

  LoadedTensors out;
  std::vector<Entry> entries;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      if (!value.is_object()) throw Error(str(ctx, ": __metadata__ is not an object"));
      for (const auto& [mk, mv] : value.items()) {
        if (!mv.is_string()) throw Error(str(ctx, ": __metadata__ value '", mk, "' is not a string"));
        out.metadata[mk] = mv;
      }
      continue;
    }
    const std::string where = str(ctx, ": tensor '", key, "'");
    if (!value.is_object()) throw Error(str(where, ": entry is not an object"));
    const auto dt = value.find("dtype");
    const auto shape = value.find("shape");
    const auto offsets = value.find("data_offsets");
    if (dt == value.end() || !dt->is_string()) throw Error(str(where, ": missing or non-string dtype"));
    Entry e;
    if (!parse_dtype(dt->get<std::string>(), e.view.dtype))
      throw Error(str(where, ": unknown dtype '", dt->get<std::string>(), "'"));
    if (shape == value.end() || !shape->is_array() || shape->size() > 64)
      throw Error(str(where, ": missing or invalid shape"));
    for (const auto& d : *shape) e.view.shape.push_back(non_negative(d, where + ": shape entry"));
    if (offsets == value.end() || !offsets->is_array() || offsets->size() != 2)
      throw Error(str(where, ": data_offsets must be [begin, end]"));
    e.begin = non_negative((*offsets)[0], where + ": data_offsets begin");
    e.end = non_negative((*offsets)[1], where + ": data_offsets end");
    if (e.begin > e.end) throw Error(str(where, ": data_offsets begin ", e.begin, " > end ", e.end));
    if (static_cast<std::uint64_t>(e.end) > data.size())
      throw Error(
          str(where, ": data_offsets end ", e.end, " is past the data section (", data.size(), " bytes)"));
    const std::int64_t numel = checked_numel(e.view.shape, where);
    std::int64_t nbytes = 0;
    if (!mul_ok(numel, static_cast<std::int64_t>(dtype_size(e.view.dtype)), nbytes))
      throw Error(str(where, ": byte size overflows"));
    if (nbytes != e.end - e.begin)
      throw Error(str(where, ": size mismatch: shape x dtype needs ", nbytes, " bytes but data_offsets span ",
                      e.end - e.begin));
    e.view.name = key;
    e.view.strides.assign(e.view.shape.size(), 1);
    for (std::size_t d = e.view.shape.size();
         d-- > 1;)  // may only wrap when numel == 0, where strides are moot
      __builtin_mul_overflow(e.view.strides[d], e.view.shape[d], &e.view.strides[d - 1]);
    e.view.data = data.data() + e.begin;
    entries.push_back(std::move(e));
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::int64_t reached = 0;
  const Entry* last = nullptr;
  for (const auto& e : entries) {
    if (e.end > e.begin) {
      if (e.begin < reached)
        throw Error(str(ctx, ": tensors '", last->view.name, "' and '", e.view.name,
                        "' have overlapping data_offsets"));
      reached = e.end;
      last = &e;
    }
    out.tensors.push_back(e.view);
  }
  return out;
}

}  // namespace rwkv::io

// safetensors writer: builds the JSON header in tensor order (8-byte aligned with trailing spaces), then
// streams each tensor's bytes.
#include "io/safetensors_writer.h"

#include <fstream>

#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv {

void check_named_tensor(const NamedTensor& t) {
  std::int64_t n = 1;
  for (auto d : t.shape)
    if (d < 0 || __builtin_mul_overflow(n, d, &n)) throw Error(str("tensor ", t.name, ": invalid shape"));
  if (static_cast<std::uint64_t>(n) * dtype_size(t.dtype) != t.data.size())
    throw Error(str("tensor ", t.name, ": ", t.data.size(), " bytes given, shape x dtype needs ",
                    static_cast<std::uint64_t>(n) * dtype_size(t.dtype)));
}

void write_safetensors(const std::filesystem::path& path, const std::vector<NamedTensor>& tensors,
                       const nlohmann::json& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    auto& m = header["__metadata__"] = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata.items()) m[k] = v.is_string() ? v.get<std::string>() : v.dump();
  }
  std::uint64_t offset = 0;
  for (const auto& t : tensors) {
    check_named_tensor(t);
    header[t.name] = {{"dtype", dtype_name(t.dtype)},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.data.size()}}};
    offset += t.data.size();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(str("cannot create ", path.string()));
  const std::uint64_t len = text.size();
  char len_bytes[8];
  for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<char>((len >> (8 * i)) & 0xff);
  out.write(len_bytes, 8);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  for (const auto& t : tensors)
    out.write(reinterpret_cast<const char*>(t.data.data()), static_cast<std::streamsize>(t.data.size()));
  out.close();
  if (!out) throw Error(str("cannot write ", path.string()));
}

}  // namespace rwkv

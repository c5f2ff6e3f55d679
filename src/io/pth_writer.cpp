// .pth writer: emits the protocol-2 pickle torch.save produces for a state dict (without memoization,
// which pickle does not require) and packs it with the storages into a zip via ZipWriter.
#include "io/pth_writer.h"

#include <bit>
#include <cstring>

#include "io/zip_writer.h"
#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv {

namespace {

std::string_view storage_class(DType t) {
  switch (t) {
    case DType::F32:
      return "FloatStorage";
    case DType::F64:
      return "DoubleStorage";
    case DType::F16:
      return "HalfStorage";
    case DType::BF16:
      return "BFloat16Storage";
    case DType::I64:
      return "LongStorage";
    case DType::I32:
      return "IntStorage";
    case DType::I16:
      return "ShortStorage";
    case DType::I8:
      return "CharStorage";
    case DType::U8:
      return "ByteStorage";
    case DType::Bool:
      return "BoolStorage";
  }
  return "FloatStorage";
}

// Builds a protocol-2 pickle byte by byte.
class PickleBuilder {
 public:
  std::vector<std::byte> bytes;

  void op(char c) { bytes.push_back(static_cast<std::byte>(c)); }
  void raw(std::string_view s) {
    for (char c : s) op(c);
  }
  template <typename T>
  void le(T v) {
    for (std::size_t i = 0; i < sizeof(T); ++i)
      bytes.push_back(static_cast<std::byte>((static_cast<std::uint64_t>(v) >> (8 * i)) & 0xff));
  }
  void global(std::string_view module, std::string_view name) {
    op('c');
    raw(module);
    op('\n');
    raw(name);
    op('\n');
  }
  void string(std::string_view s) {
    op('X');
    le<std::uint32_t>(static_cast<std::uint32_t>(s.size()));
    raw(s);
  }
  void integer(std::int64_t v) {
    if (v >= 0 && v < 256) {
      op('K');
      le<std::uint8_t>(static_cast<std::uint8_t>(v));
    } else if (v >= 0 && v < 65536) {
      op('M');
      le<std::uint16_t>(static_cast<std::uint16_t>(v));
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      op('J');
      le<std::uint32_t>(static_cast<std::uint32_t>(static_cast<std::int32_t>(v)));
    } else {
      op('\x8a');  // LONG1, 8 bytes two's complement
      le<std::uint8_t>(8);
      le<std::uint64_t>(static_cast<std::uint64_t>(v));
    }
  }
  void int_tuple(const std::vector<std::int64_t>& v) {
    op('(');
    for (auto x : v) integer(x);
    op('t');
  }
  void empty_ordered_dict() {
    global("collections", "OrderedDict");
    op(')');
    op('R');
  }
  void value(const nlohmann::json& v) {
    if (v.is_null()) {
      op('N');
    } else if (v.is_boolean()) {
      op(v.get<bool>() ? '\x88' : '\x89');
    } else if (v.is_number_integer()) {
      integer(v.get<std::int64_t>());
    } else if (v.is_number_float()) {
      op('G');
      const auto bits = std::bit_cast<std::uint64_t>(v.get<double>());
      for (int i = 7; i >= 0; --i) bytes.push_back(static_cast<std::byte>((bits >> (8 * i)) & 0xff));
    } else if (v.is_string()) {
      string(v.get<std::string>());
    } else if (v.is_array()) {
      op(']');
      if (v.empty()) return;
      op('(');
      for (const auto& x : v) value(x);
      op('e');
    } else if (v.is_object()) {
      op('}');
      if (v.empty()) return;
      op('(');
      for (const auto& [k, x] : v.items()) string(k), value(x);
      op('u');
    } else {
      throw Error("write_pth: metadata value of unsupported JSON type");
    }
  }
};

}  // namespace

void write_pth(const std::filesystem::path& path, const std::vector<NamedTensor>& tensors,
               const nlohmann::json& metadata, const PthWriteOptions& options) {
  if (!metadata.is_object() && !metadata.is_null()) throw Error("write_pth: metadata must be a JSON object");
  PickleBuilder p;
  p.op('\x80');
  p.le<std::uint8_t>(2);
  if (options.ordered_dict)
    p.empty_ordered_dict();
  else
    p.op('}');
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const NamedTensor& t = tensors[i];
    check_named_tensor(t);
    std::vector<std::int64_t> stride(t.shape.size(), 1);
    for (std::size_t d = t.shape.size(); d-- > 1;)
      stride[d - 1] = stride[d] * std::max<std::int64_t>(t.shape[d], 1);
    p.string(t.name);
    p.global("torch._utils", "_rebuild_tensor_v2");
    p.op('(');
    p.op('(');  // persistent id ('storage', class, key, 'cpu', numel)
    p.string("storage");
    p.global("torch", storage_class(t.dtype));
    p.string(std::to_string(i));
    p.string("cpu");
    p.integer(static_cast<std::int64_t>(t.data.size() / dtype_size(t.dtype)));
    p.op('t');
    p.op('Q');
    p.integer(0);
    p.int_tuple(t.shape);
    p.int_tuple(stride);
    p.op('\x89');            // requires_grad False
    p.empty_ordered_dict();  // backward hooks
    p.op('t');
    p.op('R');
    p.op('s');
  }
  for (const auto& [k, v] : metadata.items()) {
    p.string(k);
    p.value(v);
    p.op('s');
  }
  if (options.ordered_dict &&
      options.metadata_attr) {  // BUILD with {'_metadata': OrderedDict({'': {'version': 1}})}
    p.op('}');
    p.string("_metadata");
    p.empty_ordered_dict();
    p.string("");
    p.value(nlohmann::json{{"version", 1}});
    p.op('s');
    p.op('s');
    p.op('b');
  }
  p.op('.');

  io::ZipWriter zip(path, options.force_zip64);
  const std::string prefix = options.folder + "/";
  zip.add(prefix + "data.pkl", p.bytes);
  for (std::size_t i = 0; i < tensors.size(); ++i)
    zip.add(prefix + "data/" + std::to_string(i), tensors[i].data);
  const std::string version = "3\n";
  zip.add(prefix + "version", std::as_bytes(std::span(version.data(), version.size())));
  zip.finish();
}

}  // namespace rwkv

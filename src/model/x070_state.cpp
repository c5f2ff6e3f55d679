// X070State: zero initialisation and the binary state format.
//
// Format (little-endian): "RWKVSTAT" | u32 version=1 | u32 arch=0x070 | u32 n_layer | u32 n_embd |
// u32 n_head | u32 head_size | u32 dtype | u32 reserved=0 | u64 model fingerprint | u64 payload size |
// u64 FNV-1a of payload | payload = shift values then wkv values in `dtype`.
#include "model/x070_state.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include "io/tensor.h"
#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv {

namespace {
constexpr char kMagic[8] = {'R', 'W', 'K', 'V', 'S', 'T', 'A', 'T'};
constexpr std::uint32_t kVersion = 1, kArch = 0x070;
constexpr std::size_t kHeaderSize = 8 + 8 * 4 + 3 * 8;

template <typename T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}
template <typename T>
T get(const std::string& in, std::size_t& pos) {
  T v;
  std::memcpy(&v, in.data() + pos, sizeof(T));
  pos += sizeof(T);
  return v;
}
std::size_t value_size(StateDType t) {
  return t == StateDType::F32 ? 4 : 2;
}
}  // namespace

std::uint64_t fnv1a64(const void* data, std::size_t n, std::uint64_t h) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

X070State::X070State(const X070Dims& d)
    : n_layer(d.n_layer),
      n_embd(d.n_embd),
      n_head(d.n_head),
      head_size(d.head_size),
      shift(static_cast<std::size_t>(d.n_layer) * 2 * d.n_embd, 0.0f),
      wkv(static_cast<std::size_t>(d.n_layer) * d.n_head * d.head_size * d.head_size, 0.0f) {}

bool X070State::matches(const X070Dims& d) const {
  return n_layer == d.n_layer && n_embd == d.n_embd && n_head == d.n_head && head_size == d.head_size &&
         shift.size() == static_cast<std::size_t>(d.n_layer) * 2 * d.n_embd &&
         wkv.size() == static_cast<std::size_t>(d.n_layer) * d.n_head * d.head_size * d.head_size;
}

std::string serialize_state(const X070State& s, std::uint64_t fingerprint, StateDType dtype) {
  const std::size_t count = s.shift.size() + s.wkv.size();
  std::string payload(count * value_size(dtype), '\0');
  char* p = payload.data();
  auto emit = [&](const std::vector<float>& v) {
    for (float x : v) {
      if (dtype == StateDType::F32) {
        std::memcpy(p, &x, 4), p += 4;
      } else {
        std::uint16_t h = dtype == StateDType::BF16 ? float_to_bf16(x) : float_to_f16(x);
        std::memcpy(p, &h, 2), p += 2;
      }
    }
  };
  emit(s.shift);
  emit(s.wkv);
  std::string out(kMagic, 8);
  for (std::uint32_t v : {kVersion, kArch, static_cast<std::uint32_t>(s.n_layer),
                          static_cast<std::uint32_t>(s.n_embd), static_cast<std::uint32_t>(s.n_head),
                          static_cast<std::uint32_t>(s.head_size), static_cast<std::uint32_t>(dtype), 0u})
    put(out, v);
  put(out, fingerprint);
  put(out, static_cast<std::uint64_t>(payload.size()));
  put(out, fnv1a64(payload.data(), payload.size()));
  return out + payload;
}

X070State deserialize_state(const std::string& bytes, const X070Dims& dims, std::uint64_t fingerprint,
                            const std::string& source) {
  if (bytes.size() < kHeaderSize || std::memcmp(bytes.data(), kMagic, 8) != 0)
    throw Error(str(source, ": not an rwkv state file (bad magic or shorter than the ", kHeaderSize,
                    "-byte header)"));
  std::size_t pos = 8;
  const auto version = get<std::uint32_t>(bytes, pos), arch = get<std::uint32_t>(bytes, pos);
  if (version != kVersion)
    throw Error(
        str(source, ": state format version ", version, " is not supported (expected ", kVersion, ")"));
  if (arch != kArch)
    throw Error(str(source, ": state is for architecture 0x", std::hex, arch, ", expected x070"));
  const auto L = get<std::uint32_t>(bytes, pos), C = get<std::uint32_t>(bytes, pos);
  const auto H = get<std::uint32_t>(bytes, pos), N = get<std::uint32_t>(bytes, pos);
  const auto dtype_raw = get<std::uint32_t>(bytes, pos);
  pos += 4;
  const auto fp = get<std::uint64_t>(bytes, pos), size = get<std::uint64_t>(bytes, pos);
  const auto checksum = get<std::uint64_t>(bytes, pos);
  if (static_cast<int>(L) != dims.n_layer || static_cast<int>(C) != dims.n_embd ||
      static_cast<int>(H) != dims.n_head || static_cast<int>(N) != dims.head_size)
    throw Error(str(source, ": state has dimensions L=", L, " C=", C, " H=", H, " N=", N,
                    " but the model has L=", dims.n_layer, " C=", dims.n_embd, " H=", dims.n_head,
                    " N=", dims.head_size));
  if (fp != fingerprint)
    throw Error(str(source, ": state was made by a different model (fingerprint ", std::hex, fp, ", model ",
                    fingerprint, ")"));
  if (dtype_raw > 2) throw Error(str(source, ": unknown state dtype ", dtype_raw));
  const auto dtype = static_cast<StateDType>(dtype_raw);
  X070State s(dims);
  const std::size_t count = s.shift.size() + s.wkv.size();
  if (size != count * value_size(dtype) || bytes.size() - kHeaderSize != size)
    throw Error(str(source, ": state payload is ", bytes.size() - kHeaderSize, " bytes, expected ",
                    count * value_size(dtype)));
  if (fnv1a64(bytes.data() + kHeaderSize, size) != checksum)
    throw Error(str(source, ": state checksum mismatch (file corrupt)"));
  const char* p = bytes.data() + kHeaderSize;
  auto read = [&](std::vector<float>& v) {
    for (float& x : v) {
      if (dtype == StateDType::F32) {
        std::memcpy(&x, p, 4), p += 4;
      } else {
        std::uint16_t h;
        std::memcpy(&h, p, 2), p += 2;
        x = dtype == StateDType::BF16 ? bf16_to_float(h) : f16_to_float(h);
      }
    }
  };
  read(s.shift);
  read(s.wkv);
  return s;
}

void save_state(const std::filesystem::path& path, const X070State& s, std::uint64_t fingerprint,
                StateDType dtype) {
  const std::string bytes = serialize_state(s, fingerprint, dtype);
  const auto tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw Error(str(tmp, ": cannot write state file"));
  }
  std::filesystem::rename(tmp, path);
}

X070State load_state(const std::filesystem::path& path, const X070Dims& dims, std::uint64_t fingerprint) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(str(path.string(), ": cannot open state file"));
  std::stringstream ss;
  ss << in.rdbuf();
  return deserialize_state(ss.str(), dims, fingerprint, path.string());
}

}  // namespace rwkv

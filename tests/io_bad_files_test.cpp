// Malformed inputs: hand-made zips, pickles and safetensors files (built in C++ into a TempDir, or
// mutated from golden bytes), each rejected with a specific rwkv::Error message; no crash, no hang.
#include <fstream>
#include <iterator>
#include <random>

#include <nlohmann/json.hpp>

#include "io/checkpoint.h"
#include "io/pickle.h"
#include "io/zip_writer.h"
#include "rwkv/error.h"
#include "test_support.h"

namespace {

using namespace std::string_literals;
using rwkv::Checkpoint;
using Bytes = std::vector<std::byte>;

Bytes bytes_of(std::string_view s) {
  Bytes b(s.size());
  std::memcpy(b.data(), s.data(), s.size());
  return b;
}

Bytes read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return bytes_of(s);
}

// Asserts that opening `bytes` throws rwkv::Error whose message contains `expected`.
::testing::AssertionResult RejectsWith(const Bytes& bytes, const std::string& expected) {
  try {
    Checkpoint::from_memory(bytes, "bad-file");
  } catch (const rwkv::Error& e) {
    if (std::string(e.what()).find(expected) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "message '" << e.what() << "' lacks '" << expected << "'";
  }
  return ::testing::AssertionFailure() << "accepted; expected an error with '" << expected << "'";
}

// ---- pickle snippets (protocol 2) ----
std::string u32(std::uint32_t v) {
  return {char(v), char(v >> 8), char(v >> 16), char(v >> 24)};
}
std::string ustr(const std::string& s) {
  // Built with += : g++ 12 -O3 warns falsely (-Wrestrict) on "X" + a + b.
  std::string out = "X";
  out += u32(static_cast<std::uint32_t>(s.size()));
  out += s;
  return out;
}
std::string pint(std::int64_t v) {  // LONG1 with 8 bytes: any int64
  std::string s = "\x8a\x08";
  for (int i = 0; i < 8; ++i) s.push_back(char(static_cast<std::uint64_t>(v) >> (8 * i)));
  return s;
}
std::string tuple(const std::vector<std::int64_t>& v) {
  std::string s = "(";
  for (auto x : v) s += pint(x);
  return s + "t";
}
// {name: tensor} with the given storage numel, offset, shape and stride; float32 storage key "0".
std::string tensor_pickle(std::int64_t numel, std::int64_t offset, const std::vector<std::int64_t>& shape,
                          const std::vector<std::int64_t>& stride) {
  return "\x80\x02}" + ustr("w") + "ctorch._utils\n_rebuild_tensor_v2\n((" + ustr("storage") +
         "ctorch\nFloatStorage\n" + ustr("0") + ustr("cpu") + pint(numel) + "tQ" + pint(offset) +
         tuple(shape) + tuple(stride) + "\x89}tRs.";
}

// A stored zip in `dir` with the given entries; returns its bytes.
Bytes make_zip(const std::filesystem::path& dir, const std::vector<std::pair<std::string, Bytes>>& entries) {
  const auto path = dir / "made.zip";
  rwkv::io::ZipWriter zip(path);
  for (const auto& [name, data] : entries) zip.add(name, data);
  zip.finish();
  return read_file(path);
}

Bytes pth_with(const std::filesystem::path& dir, const std::string& pickle, std::size_t storage_bytes) {
  return make_zip(dir, {{"m/data.pkl", bytes_of(pickle)}, {"m/data/0", Bytes(storage_bytes)}});
}

std::uint32_t get32(const Bytes& b, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= std::to_integer<std::uint32_t>(b[at + i]) << (8 * i);
  return v;
}
void put32(Bytes& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<std::byte>(v >> (8 * i));
}

TEST(IoBadFiles, ZipStructure) {
  rwkv::test::TempDir tmp;
  const Bytes good = read_file(rwkv::test::golden("reranker-a.bf16.pth"));
  ASSERT_NO_THROW(Checkpoint::from_memory(good, "good"));

  EXPECT_TRUE(RejectsWith(Bytes(good.begin(), good.begin() + static_cast<long>(good.size() / 2)),
                          "end of central directory record not found"));
  EXPECT_TRUE(RejectsWith(Bytes(good.begin(), good.end() - 1), "end of central directory record not found"));
  EXPECT_TRUE(RejectsWith(bytes_of("PK\x03\x04"), "too short"));

  // torch writes ZIP64 end records: the central directory offset that counts is the 64-bit one.
  const std::size_t eocd = good.size() - 22;
  ASSERT_EQ(get32(good, eocd - 20), 0x07064b50u);
  Bytes past = good;
  put32(past, get32(good, eocd - 20 + 8) + 48, 0x7fffff00u);
  EXPECT_TRUE(
      RejectsWith(past, "central directory (offset 2147483392, size 5028) extends past the end of the file"));
  EXPECT_TRUE(RejectsWith(past, "bad-file: zip:"));
  Bytes z64 = good;
  put32(z64, eocd - 20 + 8, 0x7fffff00u);
  EXPECT_TRUE(RejectsWith(z64, "ZIP64 end of central directory offset 2147483392 is out of range"));
  // A plain (non-ZIP64) archive: the 32-bit EOCD field.
  Bytes plain = make_zip(tmp.path(), {{"m/data.pkl", bytes_of("\x80\x02}.")}});
  ASSERT_NO_THROW(Checkpoint::from_memory(plain, "plain"));
  put32(plain, plain.size() - 22 + 16, 0x7fffff00u);
  EXPECT_TRUE(RejectsWith(plain, "extends past the end of the file"));

  Bytes bad_local = good;
  const std::uint32_t cd = get32(good, eocd + 16);
  const std::size_t second =
      cd + 46 +
      (std::to_integer<std::size_t>(good[cd + 28]) | std::to_integer<std::size_t>(good[cd + 29]) << 8) +
      (std::to_integer<std::size_t>(good[cd + 30]) | std::to_integer<std::size_t>(good[cd + 31]) << 8);
  put32(bad_local, get32(good, second + 42), 0x12345678u);  // second entry's local header signature
  EXPECT_TRUE(RejectsWith(bad_local, "bad local header signature for entry 'reranker-a.bf16/data/0'"));

  Bytes bad_cd = good;
  put32(bad_cd, cd, 0);
  EXPECT_TRUE(RejectsWith(bad_cd, "bad central directory signature for entry 0"));

  Bytes method = good;
  method[cd + 10] = std::byte{12};  // bzip2
  EXPECT_TRUE(RejectsWith(method, "unsupported compression method 12"));

  Bytes local_past = good;
  put32(local_past, cd + 42, 0xfffffff0u);
  EXPECT_TRUE(RejectsWith(local_past, "is past the end of the file"));

  Bytes size_past = good;
  put32(size_past, cd + 20, 0x7ffffff0u);
  put32(size_past, cd + 24, 0x7ffffff0u);
  EXPECT_TRUE(RejectsWith(size_past, "extends past the end of the file"));
}

TEST(IoBadFiles, MissingOrAmbiguousDataPkl) {
  rwkv::test::TempDir tmp;
  EXPECT_TRUE(RejectsWith(make_zip(tmp.path(), {{"m/data/0", Bytes(4)}}), "no '<folder>/data.pkl' entry"));
  EXPECT_TRUE(RejectsWith(
      make_zip(tmp.path(), {{"a/data.pkl", bytes_of("\x80\x02}.")}, {"b/data.pkl", bytes_of("\x80\x02}.")}}),
      "ambiguous checkpoint: 2 data.pkl entries"));
  EXPECT_TRUE(RejectsWith(make_zip(tmp.path(), {{"m/data.pkl", bytes_of(tensor_pickle(4, 0, {4}, {1}))}}),
                          "storage entry missing from the zip"));
  EXPECT_TRUE(RejectsWith(bytes_of("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19."),
                          "legacy torch serialization not supported"));
}

TEST(IoBadFiles, ForbiddenGlobalsAndOpcodes) {
  rwkv::test::TempDir tmp;
  auto pkl = [&](const std::string& p) { return make_zip(tmp.path(), {{"m/data.pkl", bytes_of(p)}}); };
  EXPECT_TRUE(RejectsWith(pkl("\x80\x02"
                              "cos\nsystem\n" +
                              ustr("ls") + "\x85R."),
                          "bad-file: m/data.pkl: pickle: forbidden global os.system at offset 2"));
  EXPECT_TRUE(RejectsWith(pkl("\x80\x02" + ustr("builtins") + ustr("eval") + "\x93."),
                          "forbidden global builtins.eval"));
  EXPECT_TRUE(RejectsWith(pkl("\x80\x02}\xff."), "unsupported opcode 0xff"));
  EXPECT_TRUE(RejectsWith(pkl("\x80\x02}" + ustr("k\xe1y") + "Ns."), "string is not valid UTF-8"));
  EXPECT_TRUE(RejectsWith(pkl("\x80\x02}" + ustr("\xed\xa0\x80") + "Ns."), "string is not valid UTF-8"));
  EXPECT_TRUE(RejectsWith(pkl("\x80\x02}" + ustr("k") + "I1\ns."), "unsupported opcode 0x49"));  // text INT
  EXPECT_TRUE(RejectsWith(pkl("\x80\x02}"), "input ends without STOP"));
  EXPECT_TRUE(RejectsWith(pkl("\x80\x02]."), "top-level object is not a dict"));
  EXPECT_TRUE(RejectsWith(pkl("\x80\x02s."), "stack underflow"));
  EXPECT_TRUE(RejectsWith(pkl("\x80\x02h\x05."), "memo key 5 not found"));
  EXPECT_TRUE(RejectsWith(pkl("\x80\x02X\xff\xff\xff\x7f"), "truncated operand"));
  EXPECT_TRUE(RejectsWith(pkl("\x80\x09}."), "unsupported pickle protocol 9"));
  EXPECT_TRUE(RejectsWith(pkl("\x80\x02"
                              "ctorch\nFloatStorage\n)R."),
                          "cannot be called"));
  // A list that contains itself, as a top-level value: bounded conversion, no hang or overflow.
  EXPECT_TRUE(RejectsWith(pkl("\x80\x02}" + ustr("x") +
                              "]q\x00h\x00"
                              "as."s),
                          "nested too deeply"));
  // Deep MARK nesting and a huge memo index cost nothing and end in a clean error.
  EXPECT_TRUE(RejectsWith(pkl("\x80\x02" + std::string(200000, '(') + "."), "stack underflow"));
  EXPECT_NO_THROW(Checkpoint::from_memory(pkl("\x80\x02}r\xff\xff\xff\xffj\xff\xff\xff\xff"
                                              "0."),
                                          "memo"));
}

TEST(IoBadFiles, TensorGeometry) {
  rwkv::test::TempDir tmp;
  const auto& d = tmp.path();
  ASSERT_NO_THROW(Checkpoint::from_memory(pth_with(d, tensor_pickle(16, 0, {4, 4}, {4, 1}), 64), "ok"));
  const auto strided = Checkpoint::from_memory(pth_with(d, tensor_pickle(16, 1, {3, 2}, {1, 5}), 64), "ok");
  EXPECT_FALSE(strided.get("w").is_contiguous());
  EXPECT_TRUE(RejectsWith(pth_with(d, tensor_pickle(8, 0, {4, 4}, {4, 1}), 32),
                          "reach element 15 but the storage holds only 8 elements"));
  EXPECT_TRUE(RejectsWith(pth_with(d, tensor_pickle(16, 1, {4, 4}, {4, 1}), 64), "reach element 16"));
  EXPECT_TRUE(RejectsWith(pth_with(d, tensor_pickle(16, 0, {4, 4}, {4, 1}), 60), "storage holds 60 bytes"));
  EXPECT_TRUE(RejectsWith(pth_with(d, tensor_pickle(16, 0, {-1, 4}, {4, 1}), 64), "negative dimension -1"));
  EXPECT_TRUE(RejectsWith(pth_with(d, tensor_pickle(16, 0, {4, 4}, {-4, 1}), 64), "negative stride -4"));
  EXPECT_TRUE(RejectsWith(pth_with(d, tensor_pickle(16, -1, {4}, {1}), 64), "negative storage offset"));
  EXPECT_TRUE(RejectsWith(pth_with(d, tensor_pickle(16, 0, {1ll << 40, 1ll << 40}, {1, 1}), 64),
                          "element count overflows"));
  EXPECT_TRUE(
      RejectsWith(pth_with(d, tensor_pickle(16, 0, {2, 2}, {1ll << 62, 1ll << 62}), 64), "strides overflow"));
  EXPECT_TRUE(RejectsWith(pth_with(d, tensor_pickle(1ll << 62, 0, {4}, {1}), 64), "overflows"));
  EXPECT_TRUE(RejectsWith(pth_with(d, tensor_pickle(-3, 0, {4}, {1}), 64), "negative size -3"));
  EXPECT_TRUE(RejectsWith(pth_with(d, tensor_pickle(16, 0, {4, 4}, {4}), 64), "stride has 1"));
}

Bytes safetensors(const std::string& header, std::size_t data_bytes) {
  std::string s;
  for (int i = 0; i < 8; ++i) s.push_back(char(static_cast<std::uint64_t>(header.size()) >> (8 * i)));
  return bytes_of(s + header + std::string(data_bytes, '\0'));
}

TEST(IoBadFiles, Safetensors) {
  ASSERT_NO_THROW(Checkpoint::from_memory(
      safetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"k":"v"}})", 8),
      "ok"));
  Bytes longer = safetensors("{}", 0);
  longer[0] = std::byte{200};
  EXPECT_TRUE(RejectsWith(longer, "header length 200 is longer than the file (10 bytes)"));
  EXPECT_TRUE(RejectsWith(bytes_of("\x01\x02"), "file too short"));
  EXPECT_TRUE(RejectsWith(safetensors("{\"a\":", 0), "header is not valid JSON"));
  EXPECT_TRUE(RejectsWith(safetensors("[]", 0), "header is not a JSON object"));
  EXPECT_TRUE(RejectsWith(safetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                      R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                      12),
                          "tensors 'a' and 'b' have overlapping data_offsets"));
  EXPECT_TRUE(RejectsWith(safetensors(R"({"a":{"dtype":"F8","shape":[2],"data_offsets":[0,2]}})", 2),
                          "tensor 'a': unknown dtype 'F8'"));
  EXPECT_TRUE(RejectsWith(safetensors(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8),
                          "size mismatch: shape x dtype needs 12 bytes but data_offsets span 8"));
  EXPECT_TRUE(RejectsWith(safetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", 8),
                          "is past the data section"));
  EXPECT_TRUE(
      RejectsWith(safetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8), "> end"));
  EXPECT_TRUE(RejectsWith(safetensors(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8),
                          "not a non-negative integer"));
  EXPECT_TRUE(RejectsWith(
      safetensors(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 8),
      "overflow"));
  EXPECT_TRUE(RejectsWith(safetensors(R"({"a":{"dtype":"F32","shape":[2]}})", 8), "data_offsets must be"));
  EXPECT_TRUE(RejectsWith(safetensors(R"({"__metadata__":{"k":1}})", 0), "is not a string"));
}

// Random byte mutations of a small valid .pth and safetensors: only rwkv::Error may escape.
TEST(IoBadFiles, RandomMutationsNeverCrash) {
  rwkv::test::TempDir tmp;
  const Bytes pth = pth_with(tmp.path(), tensor_pickle(16, 0, {4, 4}, {4, 1}), 64);
  const Bytes st =
      safetensors(R"({"a":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]},"__metadata__":{"k":"v"}})", 8);
  std::mt19937 rng(42);
  int accepted = 0;
  for (const Bytes* base : {&pth, &st}) {
    for (int iter = 0; iter < 3000; ++iter) {
      Bytes b = *base;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < flips; ++k) b[rng() % b.size()] = static_cast<std::byte>(rng());
      if (rng() % 8 == 0) b.resize(rng() % b.size());
      try {
        const auto c = Checkpoint::from_memory(b, "mutant");
        for (const auto& t : c.tensors())
          if (t.numel() < 4096 && (t.dtype == rwkv::DType::F32 || t.dtype == rwkv::DType::BF16))
            (void)t.to_float();
        ++accepted;
      } catch (const rwkv::Error&) {
      }
    }
  }
  EXPECT_GT(accepted, 0);  // some mutations only touch data bytes
}

}  // namespace

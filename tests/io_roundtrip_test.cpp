// Writers and conversions: write_pth / write_safetensors output loads back through Checkpoint with
// identical values (bf16, f16, fp32, strided views, ZIP64, deflated entries, OrderedDict + BUILD), and the
// element conversions round to nearest even.
#include <cmath>
#include <cstring>
#include <random>

#include "io/checkpoint.h"
#include "io/pth_writer.h"
#include "io/safetensors_writer.h"
#include "io/zip_writer.h"
#include "rwkv/error.h"
#include "test_support.h"

namespace {

using namespace std::string_literals;
using rwkv::Checkpoint;
using rwkv::DType;

struct Owned {
  rwkv::NamedTensor t;
  std::vector<std::byte> bytes;
};

// A tensor of random values in the given dtype (values exactly representable in it).
Owned random_tensor(const std::string& name, DType dtype, std::vector<std::int64_t> shape,
                    std::mt19937& rng) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  Owned o;
  o.bytes.resize(static_cast<std::size_t>(n) * rwkv::dtype_size(dtype));
  std::normal_distribution<float> dist(0.0f, 2.0f);
  for (std::int64_t i = 0; i < n; ++i) {
    const float v = dist(rng);
    auto* dst = o.bytes.data() + i * static_cast<std::int64_t>(rwkv::dtype_size(dtype));
    if (dtype == DType::F32) std::memcpy(dst, &v, 4);
    if (dtype == DType::BF16) {
      const auto h = rwkv::float_to_bf16(v);
      std::memcpy(dst, &h, 2);
    }
    if (dtype == DType::F16) {
      const auto h = rwkv::float_to_f16(v);
      std::memcpy(dst, &h, 2);
    }
  }
  o.t = {name, dtype, std::move(shape), {}};
  return o;
}

std::vector<rwkv::NamedTensor> views(std::vector<Owned>& owned) {
  std::vector<rwkv::NamedTensor> out;
  for (auto& o : owned) {
    o.t.data = o.bytes;
    out.push_back(o.t);
  }
  return out;
}

std::vector<Owned> sample(DType dtype) {
  std::mt19937 rng(7);
  std::vector<Owned> v;
  v.push_back(random_tensor("emb.weight", dtype, {64, 16}, rng));
  v.push_back(random_tensor("blocks.0.att.x_r", dtype, {1, 1, 16}, rng));
  v.push_back(random_tensor("scalar", dtype, {}, rng));
  v.push_back(random_tensor("empty", dtype, {0, 3}, rng));
  return v;
}

void expect_equal(const Checkpoint& c, const std::vector<Owned>& want) {
  ASSERT_EQ(c.tensors().size(), want.size()) << c.path();
  for (std::size_t i = 0; i < want.size(); ++i) {
    const auto& t = c.tensors()[i];
    EXPECT_EQ(t.name, want[i].t.name);
    EXPECT_EQ(t.dtype, want[i].t.dtype);
    EXPECT_EQ(t.shape, want[i].t.shape);
    ASSERT_EQ(static_cast<std::size_t>(t.numel()) * rwkv::dtype_size(t.dtype), want[i].bytes.size());
    if (!want[i].bytes.empty()) {
      EXPECT_EQ(std::memcmp(t.data, want[i].bytes.data(), want[i].bytes.size()), 0) << t.name;
    }
  }
}

TEST(IoRoundTrip, PthAndSafetensorsAllDtypes) {
  rwkv::test::TempDir tmp;
  const nlohmann::json meta = {{"reranker_layer_idx", {1, 0}},
                               {"name", "x"},
                               {"big", 1ll << 40},
                               {"neg", -5},
                               {"f", 0.25},
                               {"flag", true},
                               {"none", nullptr},
                               {"nested", {{"a", {1, 2}}}}};
  for (DType dtype : {DType::F32, DType::BF16, DType::F16}) {
    auto owned = sample(dtype);
    const auto pth = tmp.path() / "m.pth", st = tmp.path() / "m.safetensors";
    rwkv::write_pth(pth, views(owned), meta);
    rwkv::write_safetensors(st, views(owned), meta);
    const auto a = Checkpoint::open(pth), b = Checkpoint::open(st);
    expect_equal(a, owned);
    expect_equal(b, owned);
    EXPECT_EQ(a.metadata(), meta);
    EXPECT_EQ(b.metadata()["reranker_layer_idx"], "[1,0]");
    EXPECT_EQ(b.metadata()["name"], "x");
    for (const auto& t : a.tensors()) EXPECT_TRUE(AllClose(t.to_float(), b.get(t.name).to_float(), 0.0));
  }
}

TEST(IoRoundTrip, Bf16AndFp32CopiesAgree) {
  rwkv::test::TempDir tmp;
  auto bf = sample(DType::BF16);
  std::vector<Owned> fp;
  for (const auto& o : bf) {  // upcast exactly, as the golden fp32 files are
    Owned f{o.t, std::vector<std::byte>(o.bytes.size() * 2)};
    f.t.dtype = DType::F32;
    for (std::size_t i = 0; i < o.bytes.size() / 2; ++i) {
      std::uint16_t h;
      std::memcpy(&h, o.bytes.data() + 2 * i, 2);
      const float v = rwkv::bf16_to_float(h);
      std::memcpy(f.bytes.data() + 4 * i, &v, 4);
    }
    fp.push_back(std::move(f));
  }
  rwkv::write_pth(tmp.path() / "bf.pth", views(bf));
  rwkv::write_pth(tmp.path() / "fp.pth", views(fp), {},
                  {.folder = "fp", .ordered_dict = true, .metadata_attr = true});
  const auto a = Checkpoint::open(tmp.path() / "bf.pth"), b = Checkpoint::open(tmp.path() / "fp.pth");
  for (const auto& t : a.tensors())
    EXPECT_TRUE(AllClose(t.to_float(), b.get(t.name).to_float(), 0.0)) << t.name;
}

TEST(IoRoundTrip, Zip64AndDeflatedEntries) {
  rwkv::test::TempDir tmp;
  auto owned = sample(DType::F32);
  rwkv::write_pth(tmp.path() / "z64.pth", views(owned), {{"k", 1}}, {.force_zip64 = true});
  expect_equal(Checkpoint::open(tmp.path() / "z64.pth"), owned);

  // A zip whose pickle and storage are deflated (method 8), e.g. re-zipped by a generic tool.
  rwkv::io::ZipWriter zip(tmp.path() / "deflated.pth", false, 0);
  const std::string pickle =
      "\x80\x02}X\x01\x00\x00\x00w"s +
      "ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\n"
      "X\x01\x00\x00\x00"
      "0X\x03\x00\x00\x00"
      "cpuK\x04tQK\x00K\x04\x85K\x01\x85\x89}tRs."s;
  const float values[4] = {1.5f, -2.0f, 0.25f, 8.0f};
  zip.add_deflated("w/data.pkl", std::as_bytes(std::span(pickle.data(), pickle.size())));
  zip.add_deflated("w/data/0", std::as_bytes(std::span(values)));
  zip.finish();
  const auto d = Checkpoint::open(tmp.path() / "deflated.pth");
  EXPECT_EQ(d.get("w").to_float(), std::vector<float>(values, values + 4));
}

TEST(IoRoundTrip, StridedToFloat) {
  const float data[6] = {0, 1, 2, 3, 4, 5};  // a [2,3] matrix; view its transpose [3,2]
  rwkv::TensorView t{"t", DType::F32, {3, 2}, {1, 3}, reinterpret_cast<const std::byte*>(data)};
  EXPECT_FALSE(t.is_contiguous());
  EXPECT_EQ(t.to_float(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  std::vector<float> wrong(5);
  EXPECT_THROW(t.to_float(wrong), rwkv::Error);
  rwkv::TensorView i{"i", DType::I32, {1}, {1}, reinterpret_cast<const std::byte*>(data)};
  EXPECT_THROW(i.to_float(), rwkv::Error);
  const double d[2] = {1.25, -3.5};
  rwkv::TensorView f64{"d", DType::F64, {2}, {1}, reinterpret_cast<const std::byte*>(d)};
  EXPECT_EQ(f64.to_float(), (std::vector<float>{1.25f, -3.5f}));
}

TEST(IoRoundTrip, ElementConversions) {
  EXPECT_EQ(rwkv::float_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(rwkv::float_to_bf16(1.00390625f), 0x3f80);  // halfway: ties to even
  EXPECT_EQ(rwkv::float_to_bf16(1.01171875f), 0x3f82);  // halfway: ties to even (up)
  EXPECT_TRUE(std::isnan(rwkv::bf16_to_float(rwkv::float_to_bf16(NAN))));
  EXPECT_EQ(rwkv::float_to_f16(1.0f), 0x3c00);
  EXPECT_EQ(rwkv::float_to_f16(65504.0f), 0x7bff);
  EXPECT_EQ(rwkv::float_to_f16(65520.0f), 0x7c00);  // rounds to infinity
  EXPECT_EQ(rwkv::float_to_f16(-0.0f), 0x8000);
  EXPECT_EQ(rwkv::float_to_f16(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(rwkv::float_to_f16(std::ldexp(1.0f, -25)), 0x0000);  // halfway: ties to even (zero)
  EXPECT_EQ(rwkv::float_to_f16(std::ldexp(3.0f, -25)), 0x0002);  // 1.5 ulp: ties to even (2)
  EXPECT_EQ(rwkv::f16_to_float(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(rwkv::f16_to_float(0xfc00), -INFINITY);
  EXPECT_TRUE(std::isnan(rwkv::f16_to_float(rwkv::float_to_f16(NAN))));
  // Every f16 value survives f16 -> f32 -> f16 (NaN payloads aside).
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    const float f = rwkv::f16_to_float(static_cast<std::uint16_t>(h));
    if (!std::isnan(f)) {
      EXPECT_EQ(rwkv::float_to_f16(f), h) << h;
    }
  }
  for (std::uint32_t h = 0; h < 0x10000; h += 7) {
    const float f = rwkv::bf16_to_float(static_cast<std::uint16_t>(h));
    if (!std::isnan(f)) {
      EXPECT_EQ(rwkv::float_to_bf16(f), h) << h;
    }
  }
}

}  // namespace

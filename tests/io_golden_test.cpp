// Golden checkpoints: every file in ../shared/golden loads through Checkpoint, matches manifest.json's
// key -> shape lists, and bf16 / fp32 / safetensors copies give identical float32 values.
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "io/checkpoint.h"
#include "io/mapped_file.h"
#include "io/pickle.h"
#include "io/zip_reader.h"
#include "rwkv/error.h"
#include "test_support.h"

namespace {

using rwkv::Checkpoint;
using rwkv::test::golden;

nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

// Every manifest key is a tensor with that shape or a metadata entry with that value, and nothing else.
void expect_keys_match(const Checkpoint& c, const nlohmann::json& key_shapes) {
  std::size_t tensor_keys = 0;
  for (const auto& [name, want] : key_shapes.items()) {
    if (const auto* t = c.find(name)) {
      ++tensor_keys;
      EXPECT_EQ(nlohmann::json(t->shape), want) << c.path() << ": " << name;
    } else {
      ASSERT_TRUE(c.metadata().contains(name)) << c.path() << ": missing key " << name;
    }
  }
  EXPECT_EQ(c.tensors().size(), tensor_keys) << c.path();
}

void expect_same_values(const Checkpoint& a, const Checkpoint& b) {
  ASSERT_EQ(a.tensors().size(), b.tensors().size());
  for (const auto& t : a.tensors()) {
    const auto& u = b.get(t.name);
    EXPECT_EQ(t.shape, u.shape) << t.name;
    EXPECT_TRUE(AllClose(t.to_float(), u.to_float(), 0.0))
        << a.path() << " vs " << b.path() << ": " << t.name;
  }
}

TEST(IoGolden, EmbeddingModelMatchesManifest) {
  const auto manifest = read_json(golden("manifest.json"));
  const auto bf16 = Checkpoint::open(golden("emb-model.bf16.pth"));
  const auto fp32 = Checkpoint::open(golden("emb-model.fp32.pth"));
  EXPECT_EQ(bf16.format(), "pth");
  expect_keys_match(bf16, manifest["model"]["checkpoint_key_shapes"]);
  expect_keys_match(fp32, manifest["model"]["checkpoint_key_shapes"]);
  EXPECT_EQ(bf16.get("rwkv.emb.weight").dtype, rwkv::DType::BF16);
  EXPECT_EQ(fp32.get("rwkv.emb.weight").dtype, rwkv::DType::F32);
  EXPECT_TRUE(bf16.metadata().empty());
  expect_same_values(bf16, fp32);
}

TEST(IoGolden, RerankersMatchManifestInEveryForm) {
  const auto manifest = read_json(golden("manifest.json"));
  for (const auto& r : manifest["rerankers"]) {
    const std::string name = r["name"];
    const auto bf16 = Checkpoint::open(golden(name + ".bf16.pth"));
    const auto fp32 = Checkpoint::open(golden(name + ".fp32.pth"));
    const auto st = Checkpoint::open(golden(name + ".bf16.safetensors"));
    EXPECT_EQ(st.format(), "safetensors");
    for (const Checkpoint* c : {&bf16, &fp32, &st}) expect_keys_match(*c, r["checkpoint_key_shapes"]);
    expect_same_values(bf16, fp32);
    expect_same_values(bf16, st);
    EXPECT_EQ(st.metadata()["format"], "pt");
    if (!r["reranker_layer_idx"].is_null()) {
      EXPECT_EQ(bf16.metadata()["reranker_layer_idx"], nlohmann::json::parse("[1, 0]"));
      EXPECT_EQ(fp32.metadata()["reranker_layer_idx"], nlohmann::json::parse("[1, 0]"));
      EXPECT_EQ(st.metadata()["reranker_layer_idx"], "[1, 0]");  // exactly as stored: a string
    } else {
      EXPECT_FALSE(bf16.metadata().contains("reranker_layer_idx"));
      EXPECT_FALSE(st.metadata().contains("reranker_layer_idx"));
    }
  }
}

TEST(IoGolden, OtherModelKindsMatchTheirManifests) {
  for (const std::string dir : {"rwkv4", "x070-lm"}) {
    const auto manifest = read_json(golden(dir + "/manifest.json"));
    const std::string file = manifest["checkpoints"][0]["file"];
    const auto c = Checkpoint::open(golden(dir + "/" + file));
    expect_keys_match(c, manifest["model"]["checkpoint_key_shapes"]);
    EXPECT_EQ(c.tensors().front().name, "emb.weight");  // file order is pickle order
    EXPECT_EQ(c.file_size(), manifest["checkpoints"][0]["size_bytes"].get<std::uint64_t>());
  }
}

// The container forms: reranker-b is an OrderedDict; the RWKV-4 file also carries a _metadata BUILD.
TEST(IoGolden, OrderedDictAndBuildPaths) {
  struct Case {
    std::string file;
    bool ordered, build;
  };
  for (const Case& c : {Case{"reranker-b.bf16.pth", true, false}, Case{"reranker-a.bf16.pth", false, false},
                        Case{"rwkv4/rwkv4-pile-random.bf16.pth", true, true}}) {
    const auto file = rwkv::MappedFile::open(golden(c.file));
    const rwkv::io::ZipReader zip(file.bytes(), file.name());
    const rwkv::io::ZipEntry* pkl = nullptr;
    for (const auto& e : zip.entries())
      if (e.name.ends_with("/data.pkl")) pkl = &e;
    ASSERT_NE(pkl, nullptr);
    std::vector<std::byte> buffer;
    const auto result = rwkv::io::unpickle_state_dict(zip.read(*pkl, buffer), c.file);
    EXPECT_EQ(result.ordered_dict, c.ordered) << c.file;
    EXPECT_EQ(result.had_build, c.build) << c.file;
    EXPECT_FALSE(result.tensors.empty());
  }
}

TEST(IoGolden, ViewsAreZeroCopyIntoTheMapping) {
  const auto c = Checkpoint::open(golden("reranker-a.bf16.pth"));
  const auto& t = c.get("reranker.emb.weight");
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.data) % 64, 0u);  // torch aligns storages to 64 bytes
  EXPECT_EQ(c.find("nope"), nullptr);
  EXPECT_THROW(c.get("nope"), rwkv::Error);
}

}  // namespace

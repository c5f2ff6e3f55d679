// Implementation of the golden fixture.
#include "golden_fixture.h"

#include <fstream>

namespace rwkv::test {

const GoldenModels& golden_models() {
  static std::unique_ptr<GoldenModels> models;
  if (!models) {
    auto m = std::make_unique<GoldenModels>();
    std::ifstream in(golden("manifest.json"));
    m->manifest = nlohmann::json::parse(in);
    m->ckpt_bf16 = std::make_shared<const Checkpoint>(Checkpoint::open(golden("emb-model.bf16.pth")));
    m->ckpt_fp32 = std::make_shared<const Checkpoint>(Checkpoint::open(golden("emb-model.fp32.pth")));
    m->bf16 = std::make_unique<Embedder>(m->ckpt_bf16);
    m->fp32 = std::make_unique<Embedder>(m->ckpt_fp32);
    models = std::move(m);
  }
  return *models;
}

std::vector<TokenId> ids_of(const nlohmann::json& list) {
  std::vector<TokenId> ids;
  for (const auto& v : list) ids.push_back(v.get<TokenId>());
  return ids;
}

std::vector<float> row_of(const NpyArray& a, std::size_t row) {
  const std::size_t n = static_cast<std::size_t>(a.shape.back());
  return std::vector<float>(a.data.begin() + static_cast<long>(row * n),
                            a.data.begin() + static_cast<long>((row + 1) * n));
}

std::vector<float> slice_lb(const NpyArray& a, std::size_t l, std::size_t b) {
  std::size_t inner = 1;
  for (std::size_t i = 2; i < a.shape.size(); ++i) inner *= static_cast<std::size_t>(a.shape[i]);
  const std::size_t off = (l * static_cast<std::size_t>(a.shape[1]) + b) * inner;
  return std::vector<float>(a.data.begin() + static_cast<long>(off),
                            a.data.begin() + static_cast<long>(off + inner));
}

}  // namespace rwkv::test

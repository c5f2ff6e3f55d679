// Loading the models of a document index.
#include "cli/index_models.h"

#include "model/x070_model.h"
#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv::cli {

std::unique_ptr<LoadedIndexModels> load_index_models(const std::string& model,
                                                     const std::optional<std::string>& reranker,
                                                     const std::optional<std::string>& vocab,
                                                     WeightPrecision precision) {
  auto out = std::make_unique<LoadedIndexModels>();
  auto ckpt = std::make_shared<const Checkpoint>(Checkpoint::open(model));
  out->embedder = std::make_unique<Embedder>(ckpt, precision);
  index::IndexModels& m = out->models;
  m.embedder = out->embedder.get();
  m.model_path = std::filesystem::absolute(model).lexically_normal().string();
  if (reranker) {
    auto rr = std::make_shared<const Checkpoint>(Checkpoint::open(*reranker));
    out->reranker = std::make_unique<StateReranker>(rr, out->embedder->model().dims(), precision);
    m.reranker = out->reranker.get();
    m.reranker_path = std::filesystem::absolute(*reranker).lexically_normal().string();
    m.reranker_fingerprint = checkpoint_fingerprint(*rr, "reranker.");
  }
  std::optional<std::filesystem::path> flag, model_path = std::filesystem::path(model);
  if (vocab) flag = *vocab;
  out->tokenizer = std::make_unique<WorldTokenizer>(WorldTokenizer::load(find_world_vocab(flag, model_path)));
  m.tokenizer_fingerprint = index::tokenizer_fingerprint(*out->tokenizer);
  const WorldTokenizer* tok = out->tokenizer.get();
  m.encode = [tok](std::string_view t) { return tok->encode(t); };
  return out;
}

std::string model_or_recorded(const std::optional<std::string>& flag, const std::string& recorded,
                              const char* what, const char* flag_name) {
  if (flag) return *flag;
  std::error_code ec;
  if (recorded.empty() || !std::filesystem::exists(recorded, ec))
    throw Error(
        str("the ", what, " recorded in the index (", recorded, ") is not there; pass ", flag_name, " PATH"));
  return recorded;
}

}  // namespace rwkv::cli

// Loading the models a document index is used with (rwkv index, rwkv search): the embedding model, the
// reranker, the World tokenizer, and their fingerprints for the index header.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "index/doc_index.h"
#include "io/checkpoint.h"
#include "kernels/gemm.h"

namespace rwkv::cli {

struct LoadedIndexModels {
  std::unique_ptr<Embedder> embedder;
  std::unique_ptr<StateReranker> reranker;
  std::unique_ptr<WorldTokenizer> tokenizer;
  index::IndexModels models;  // points into the members above
};

// reranker: nullopt loads none (search without reranking). Paths are recorded absolute.
std::unique_ptr<LoadedIndexModels> load_index_models(const std::string& model,
                                                     const std::optional<std::string>& reranker,
                                                     const std::optional<std::string>& vocab,
                                                     WeightPrecision precision);

// The model path to use for an existing index: the flag, else the one recorded in its header (which
// must still exist).
std::string model_or_recorded(const std::optional<std::string>& flag, const std::string& recorded,
                              const char* what, const char* flag_name);

}  // namespace rwkv::cli

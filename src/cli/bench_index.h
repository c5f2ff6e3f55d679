// `rwkv bench --index-bench`: the document index on this machine. For each document length: indexing
// documents/s, bytes per document for each state dtype, query latency (embed the query, ANN top-k, fetch
// and decode the cached states, rerank them from the states with the query's tokens), reranked pairs/s
// against online reranking of the same candidates, and the logit drift of each dtype vs fp32 states.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/common.h"

namespace rwkv::cli {

struct IndexBenchArgs {
  bool enabled = false;
  std::vector<int> doc_tokens = {512, 2048};
  int candidates = 100;       // documents indexed and reranked per query
  int query_tokens = 64;      // query length, template and EOS included
  int online_candidates = 0;  // 0 = candidates
  std::vector<std::string> dtypes = {"fp32", "bf16", "fp16", "int8"};
  std::string reranker;  // default: a synthetic 2-block reranker
};

std::shared_ptr<IndexBenchArgs> add_index_bench_options(CLI::App& cmd);
// Uses `model` (and a.reranker) if given, else synthetic models of layers x embd (random weights).
void run_index_bench(const IndexBenchArgs& a, const std::string& model, int layers, int embd,
                     const EngineOptions& engine);

}  // namespace rwkv::cli

// rwkv demo: an offline end-to-end run (the README's first command). Writes random-weight models of
// the real EmbeddingRWKV 0.1B shape (clearly labelled: the numbers mean nothing), then embeds texts and
// reranks documents online and offline, timing each step. Uses the World vocab when it can be found;
// otherwise it feeds one token per byte (ids 1..256 are the single bytes) and says so.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/common.h"
#include "model/synth.h"
#include "pipeline/embedder.h"
#include "pipeline/rerank_pipeline.h"
#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv::cli {

namespace {

struct DemoArgs {
  std::string dir = "demo-models";
  std::optional<std::string> vocab;
  int layers = 12, embd = 768;
  EngineOptions engine;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void run_demo(const DemoArgs& a) {
  namespace fs = std::filesystem;
  fs::create_directories(a.dir);
  const std::string tag = str("L", a.layers, "-C", a.embd);
  const fs::path emb_path = fs::path(a.dir) / ("synthetic-emb-" + tag + ".safetensors");
  const fs::path rr_path = fs::path(a.dir) / ("synthetic-reranker-" + tag + ".safetensors");
  nlohmann::json report;
  report["note"] =
      "RANDOM WEIGHTS: this demo checks the pipeline end to end; its scores carry no meaning. "
      "For real results download rwkv0b1-emb-curriculum.pth and rwkv0b1-reranker.pth (see README).";
  auto t0 = std::chrono::steady_clock::now();
  if (!fs::exists(emb_path)) {
    SynthSpec s;
    s.kind = "x070-embedding", s.layers = a.layers, s.embd = a.embd, s.seed = 11;
    write_synthetic_model(s, emb_path);
  }
  if (!fs::exists(rr_path)) {
    SynthSpec s;
    s.kind = "x070-reranker", s.layers = 3, s.embd = a.embd, s.seed = 12;
    s.reranker_layer_idx = str("[0, ", a.layers / 2, ", -1]");
    write_synthetic_model(s, rr_path);
  }
  report["models"] = {
      {"embedding", emb_path.string()}, {"reranker", rr_path.string()}, {"seconds", seconds_since(t0)}};

  t0 = std::chrono::steady_clock::now();
  auto emb_ckpt = std::make_shared<const Checkpoint>(Checkpoint::open(emb_path));
  Embedder embedder(emb_ckpt, a.engine.weight_precision());
  auto rr_ckpt = std::make_shared<const Checkpoint>(Checkpoint::open(rr_path));
  StateReranker reranker(rr_ckpt, embedder.model().dims(), a.engine.weight_precision());
  Engine engine(a.engine);
  report["load_seconds"] = seconds_since(t0);
  report["isa"] = isa_name(engine.kt.isa);
  report["threads"] = engine.pool.size();
  report["precision"] = a.engine.precision;

  std::unique_ptr<WorldTokenizer> tok;
  try {
    std::optional<fs::path> flag;
    if (a.vocab) flag = *a.vocab;
    tok = std::make_unique<WorldTokenizer>(WorldTokenizer::load(find_world_vocab(flag, std::nullopt)));
    report["tokenizer"] = "world";
  } catch (const Error&) {
    report["tokenizer"] =
        "byte-fallback (World vocab not found: run scripts/fetch-vocab.sh for real tokenization)";
  }
  auto encode = [&](std::string_view text) {
    if (tok) return tok->encode(text);
    std::vector<TokenId> ids;
    for (unsigned char c : text) ids.push_back(static_cast<TokenId>(c) + 1);
    return ids;
  };

  const std::vector<std::string> texts = {"RWKV is a recurrent network with transformer-level quality.",
                                          "The state of an RNN has a fixed size, so memory stays constant.",
                                          "Apples are red and delicious fruits.",
                                          "Embeddings map sentences to vectors for semantic search."};
  std::vector<std::vector<TokenId>> seqs;
  for (const auto& t : texts) seqs.push_back(policy_simple(encode(t)));
  std::vector<EmbedInput> in;
  for (const auto& s : seqs) in.push_back({s});
  t0 = std::chrono::steady_clock::now();
  auto vecs = embedder.embed(in, Task::Retr, true, engine.kt, engine.pool, a.engine.chunk_tokens);
  report["embed"] = {{"texts", texts.size()}, {"dim", embedder.dim()}, {"seconds", seconds_since(t0)}};
  nlohmann::json sims = nlohmann::json::array();
  for (std::size_t i = 0; i < vecs.size(); ++i) {
    nlohmann::json row = nlohmann::json::array();
    for (std::size_t j = 0; j < vecs.size(); ++j) {
      double dot = 0;
      for (int c = 0; c < embedder.dim(); ++c) dot += double(vecs[i][c]) * vecs[j][c];
      row.push_back(std::round(dot * 1e4) / 1e4);
    }
    sims.push_back(row);
  }
  report["embed"]["cosine_matrix"] = sims;

  // Rerank online and offline; the two must agree exactly.
  const std::string query = "Why does RWKV use constant memory?";
  RerankPipeline pipe(embedder.model(), reranker, encode);
  RerankOptions o;
  o.chunk_tokens = a.engine.chunk_tokens;
  t0 = std::chrono::steady_clock::now();
  const auto online = pipe.score(query, texts, o, engine.kt, engine.pool);
  const double online_s = seconds_since(t0);
  o.offline = true;
  auto doc_states = pipe.document_states(texts, o, engine.kt, engine.pool);  // computed once per document
  t0 = std::chrono::steady_clock::now();
  const auto offline = pipe.score_states(query, std::move(doc_states), o, engine.kt, engine.pool);
  const double offline_s = seconds_since(t0);
  nlohmann::json rr = nlohmann::json::array();
  float max_diff = 0;
  for (std::size_t i = 0; i < online.size(); ++i) {
    rr.push_back({{"doc", i}, {"online_score", online[i].score}, {"offline_score", offline[i].score}});
    max_diff = std::max(max_diff, std::fabs(online[i].logit - offline[i].logit));
  }
  report["rerank"] = {{"query", query},
                      {"results", rr},
                      {"online_seconds", online_s},
                      {"offline_query_seconds", offline_s},
                      {"offline_vs_online_max_logit_diff", max_diff}};
  print_line(report);
  if (max_diff != 0.0f) throw Error("demo: offline and online rerank disagree");
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto args = std::make_shared<DemoArgs>();
  auto* cmd = app.add_subcommand(
      "demo", "Offline end-to-end demo on random-weight models of the real 0.1B shape; prints a JSON report");
  cmd->add_option("--dir", args->dir, "Where the synthetic models are written (reused if present)");
  cmd->add_option("--vocab", args->vocab,
                  "World vocab file (optional; without it the demo feeds bytes as tokens)");
  cmd->add_option("--layers", args->layers, "Layers of the synthetic embedding model")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--embd", args->embd, "Width of the synthetic embedding model (multiple of 64)")
      ->check(CLI::Range(64, 4096));
  args->engine.add_to(*cmd);
  cmd->callback([args] { run_demo(*args); });
}

}  // namespace rwkv::cli

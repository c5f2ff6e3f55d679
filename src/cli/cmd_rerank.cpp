// rwkv rerank: score documents against a query with the state reranker; JSON lines sorted by score.
#include <algorithm>
#include <memory>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/inputs.h"
#include "pipeline/rerank_pipeline.h"
#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv::cli {

namespace {

struct RerankArgs {
  std::string model, reranker, query, input, mode = "online", state_dtype = "fp32";
  std::optional<std::string> vocab, state_cache;
  std::vector<std::string> docs;
  int top_n = 0;
  RerankTemplate templ;
  EngineOptions engine;
};

StateDType parse_state_dtype(const std::string& s) {
  if (s == "fp32") return StateDType::F32;
  if (s == "bf16") return StateDType::BF16;
  if (s == "fp16") return StateDType::F16;
  throw Error(str("unknown state dtype '", s, "' (expected fp32, bf16 or fp16)"));
}

void run_rerank(const RerankArgs& a) {
  if (a.mode != "online" && a.mode != "offline")
    throw Error(str("unknown --mode '", a.mode, "' (expected online or offline)"));
  if (a.state_cache && a.mode != "offline") throw Error("--state-cache needs --mode offline");
  auto emb_ckpt = std::make_shared<const Checkpoint>(Checkpoint::open(a.model));
  X070Model model(emb_ckpt, "rwkv.", a.engine.weight_precision());
  auto rr_ckpt = std::make_shared<const Checkpoint>(Checkpoint::open(a.reranker));
  StateReranker reranker(rr_ckpt, model.dims(), a.engine.weight_precision());
  Engine engine(a.engine);
  LazyTokenizer tok(a.vocab, a.model);
  std::vector<std::string> docs;
  for (const auto& in : collect_inputs(a.docs, a.input)) {
    if (in.has_tokens) throw Error(str(in.where, ": rerank takes document texts, not token lists"));
    docs.push_back(in.text);
  }
  RerankOptions o;
  o.offline = a.mode == "offline";
  if (a.state_cache) o.state_cache = *a.state_cache;
  o.cache_dtype = parse_state_dtype(a.state_dtype);
  o.templ = a.templ;
  o.chunk_tokens = a.engine.chunk_tokens;
  const WorldTokenizer& world = tok.get();
  RerankPipeline pipe(model, reranker, [&world](std::string_view t) { return world.encode(t); });
  auto results = pipe.score(a.query, docs, o, engine.kt, engine.pool);
  std::stable_sort(results.begin(), results.end(),
                   [](const auto& x, const auto& y) { return x.logit > y.logit; });
  const std::size_t n = a.top_n > 0 ? std::min<std::size_t>(a.top_n, results.size()) : results.size();
  for (std::size_t i = 0; i < n; ++i)
    print_line({{"index", results[i].index}, {"score", results[i].score}, {"logit", results[i].logit}});
}

}  // namespace

void add_rerank_command(CLI::App& app) {
  auto args = std::make_shared<RerankArgs>();
  auto* cmd = app.add_subcommand("rerank",
                                 "Score documents against a query with the state reranker; prints "
                                 "{\"index\",\"score\",\"logit\"} per document, best first");
  cmd->add_option("--model", args->model, "Embedding checkpoint (.pth or .safetensors)")
      ->required()
      ->envname("RWKV_MODEL");
  cmd->add_option("--reranker", args->reranker, "Reranker checkpoint (.pth or .safetensors)")
      ->required()
      ->envname("RWKV_RERANKER");
  cmd->add_option("--query", args->query, "The query text")->required();
  cmd->add_option("--vocab", args->vocab,
                  "World vocab file; default: $RWKV_VOCAB, next to the model, or the user data dir");
  cmd->add_option("--mode", args->mode,
                  "online (document + query in one pass) or offline (cached document states)");
  cmd->add_option("--state-cache", args->state_cache,
                  "offline: directory where document states are stored and reused");
  cmd->add_option("--state-dtype", args->state_dtype, "offline cache storage: fp32 (exact), bf16 or fp16");
  cmd->add_option("--top-n", args->top_n, "Print only the best N (0 = all)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--doc-template", args->templ.document_part,
                  "Document part of the prompt ({document} is replaced)");
  cmd->add_option("--query-template", args->templ.query_part,
                  "Query part of the prompt ({query} is replaced)");
  cmd->add_option("--input", args->input, "JSON-lines file ('-' = stdin) of {\"text\": ...} documents");
  cmd->add_option("docs", args->docs, "Document texts");
  args->engine.add_to(*cmd);
  cmd->callback([args] { run_rerank(*args); });
}

}  // namespace rwkv::cli

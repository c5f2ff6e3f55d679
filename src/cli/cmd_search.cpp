// rwkv search: query a document index; the query is embedded, the top-k documents by cosine are taken
// from the vector index and reranked from their cached states. Prints JSON lines, best first.
#include <memory>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/index_models.h"
#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv::cli {

namespace {

struct SearchArgs {
  std::string index, query;
  std::optional<std::string> model, reranker, vocab;
  bool no_rerank = false, return_text = false;
  index::SearchOptions o;
  EngineOptions engine;
};

void log_notice(const std::string& s) {
  std::cerr << nlohmann::json{{"notice", s}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
            << "\n";
}

void run_search(SearchArgs a) {
  index::DocumentIndex idx(a.index, index::DocumentIndex::Mode::Read, log_notice);
  const index::IndexHeader& h = idx.header();
  const std::string model = model_or_recorded(a.model, h.model_path, "embedding model", "--model");
  std::optional<std::string> reranker;
  if (!a.no_rerank) reranker = model_or_recorded(a.reranker, h.reranker_path, "reranker", "--reranker");
  auto loaded = load_index_models(model, reranker, a.vocab, a.engine.weight_precision());
  index::check_compatible(h, loaded->models.header(h.templ, h.state_codec), a.index);
  Engine engine(a.engine);
  a.o.rerank = !a.no_rerank;
  a.o.chunk_tokens = a.engine.chunk_tokens;
  for (const auto& hit : idx.search(a.query, a.o, loaded->models, engine.kt, engine.pool)) {
    nlohmann::json j = {{"id", hit.id}, {"score", hit.score.value_or(hit.embedding_score)}};
    if (hit.logit) j["logit"] = *hit.logit;
    j["embedding_score"] = hit.embedding_score;
    if (a.return_text) {
      for (const char* k : {"title", "text", "metadata"})
        if (hit.meta.contains(k)) j[k] = hit.meta[k];
    }
    print_line(j);
  }
}

}  // namespace

void add_search_command(CLI::App& app) {
  auto a = std::make_shared<SearchArgs>();
  auto* cmd = app.add_subcommand(
      "search",
      "Search a document index: embed the query, take the top-k by cosine, rerank them from their cached "
      "states; prints {\"id\",\"score\",\"logit\",\"embedding_score\"} per result, best first");
  cmd->add_option("--index", a->index, "Index directory (made by rwkv index)")->required();
  cmd->add_option("--query", a->query, "The query text")->required();
  cmd->add_option("--top-k", a->o.top_k, "Candidates taken from the vector index")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--top-n", a->o.top_n, "Results printed (0 = all candidates)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--no-rerank", a->no_rerank, "Rank by embedding cosine only (score = embedding_score)");
  cmd->add_flag("--return-text", a->return_text, "Include each document's title, text and metadata");
  cmd->add_option("--model", a->model, "Embedding checkpoint (default: the one recorded in the index)");
  cmd->add_option("--reranker", a->reranker, "Reranker checkpoint (default: the one recorded in the index)");
  cmd->add_option("--vocab", a->vocab,
                  "World vocab file; default: $RWKV_VOCAB, next to the model, or the user data dir");
  cmd->add_option("--ef", a->o.ef, "HNSW search beam width (at least --top-k)")
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--exact-below", a->o.exact_below,
                  "Exact cosine scan when the index holds at most this many documents (0 = always HNSW)");
  cmd->add_option("--rerank-batch", a->o.rerank_batch,
                  "Candidates advanced through the query together (bounds memory: one state each)")
      ->check(CLI::Range(1, 100000));
  a->engine.add_to(*cmd);
  cmd->callback([a] { run_search(*a); });
}

}  // namespace rwkv::cli

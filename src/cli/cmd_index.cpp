// rwkv index: build, extend, inspect or prune a document index (embeddings + cached rerank states).
// Input is read as a stream; each batch of documents is committed in one transaction, so an interrupted
// run loses at most the batch in flight and a re-run resumes (ids already stored are skipped).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/index_models.h"
#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv::cli {

namespace {

using Clock = std::chrono::steady_clock;

struct IndexArgs {
  std::string out, input, model;
  std::optional<std::string> reranker, vocab, state_dtype;
  std::vector<std::string> remove_ids;
  bool info = false, update = false;
  long batch_tokens = 16384;
  double save_every = 300;
  int hnsw_m = 16, ef_construction = 200;
  RerankTemplate templ;
  EngineOptions engine;
};

// One input line -> document; throws naming the line.
index::IndexDocument parse_document(const std::string& line, const std::string& where) {
  const auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw Error(str(where, ": not a JSON object"));
  index::IndexDocument d;
  const auto id = j.find("id");
  if (id == j.end()) throw Error(str(where, ": missing \"id\""));
  if (id->is_string())
    d.id = id->get<std::string>();
  else if (id->is_number_integer())
    d.id = id->dump();
  else
    throw Error(str(where, ": \"id\" must be a string or an integer"));
  if (d.id.empty() || d.id.size() > 511) throw Error(str(where, ": \"id\" must be 1 to 511 bytes"));
  const auto text = j.find("text");
  if (text == j.end() || !text->is_string()) throw Error(str(where, ": \"text\" must be a string"));
  d.text = text->get<std::string>();
  if (auto t = j.find("title"); t != j.end() && !t->is_null()) {
    if (!t->is_string()) throw Error(str(where, ": \"title\" must be a string"));
    d.title = t->get<std::string>();
  }
  if (auto m = j.find("metadata"); m != j.end()) d.metadata = *m;
  if (d.body().empty()) throw Error(str(where, ": the document is empty"));
  return d;
}

// "\r[#####.....] 120/400 docs  12.5 docs/s" on stderr, only when it is a terminal.
class Progress {
 public:
  explicit Progress(long total) : total_(total), tty_(isatty(2) == 1), start_(Clock::now()) {}
  void update(long done, long added) {
    if (!tty_) return;
    const double secs = std::chrono::duration<double>(Clock::now() - start_).count();
    const double rate = secs > 0 ? added / secs : 0;
    std::string bar;
    if (total_ > 0) {
      const int filled = static_cast<int>(30.0 * std::min(done, total_) / total_);
      bar = str("[", std::string(filled, '#'), std::string(30 - filled, '.'), "] ", done, "/", total_);
    } else {
      bar = str(done);
    }
    std::fprintf(stderr, "\r%s docs, %ld indexed, %.1f docs/s   ", bar.c_str(), added, rate);
    std::fflush(stderr);
  }
  void finish() {
    if (tty_) std::fputs("\n", stderr);
  }

 private:
  long total_;
  bool tty_;
  Clock::time_point start_;
};

long count_lines(const std::string& path) {
  if (path == "-") return 0;
  std::ifstream in(path, std::ios::binary);
  long n = 0;
  std::string line;
  while (std::getline(in, line))
    if (line.find_first_not_of(" \t\r") != std::string::npos) ++n;
  return n;
}

void log_notice(const std::string& s) {
  std::cerr << nlohmann::json{{"notice", s}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
            << "\n";
}

void run_info(const IndexArgs& a) {
  index::DocumentIndex idx(a.out, index::DocumentIndex::Mode::Read, log_notice);
  print_line({{"index", a.out}, {"header", idx.header().to_json()}, {"stats", idx.stats().to_json()}});
}

void run_delete(const IndexArgs& a) {
  index::DocumentIndex idx(a.out, index::DocumentIndex::Mode::Write, log_notice);
  const auto removed = idx.remove(a.remove_ids);
  idx.save_ann();
  std::vector<std::string> missing;
  for (const auto& id : a.remove_ids)
    if (std::find(removed.begin(), removed.end(), id) == removed.end()) missing.push_back(id);
  print_line(
      {{"index", a.out}, {"deleted", removed}, {"not_found", missing}, {"documents", idx.stats().documents}});
}

void run_index(const IndexArgs& a) {
  if (a.model.empty()) throw Error("--model is required to add documents");
  if (!a.reranker) throw Error("--reranker is required to add documents (its states are cached)");
  if (a.input.empty()) throw Error("--input is required to add documents");
  const auto t0 = Clock::now();
  auto loaded = load_index_models(a.model, a.reranker, a.vocab, a.engine.weight_precision());
  const index::IndexModels& m = loaded->models;
  index::DocumentIndex idx(a.out, index::DocumentIndex::Mode::Write, log_notice);
  const auto codec = index::parse_state_codec(a.state_dtype.value_or("fp32"));
  index::IndexHeader want = m.header(a.templ, codec);
  want.hnsw_m = a.hnsw_m;
  want.hnsw_ef_construction = a.ef_construction;
  if (!idx.has_header()) {
    idx.init(want);
  } else {
    index::check_compatible(idx.header(), want, a.out);
    if (a.state_dtype && idx.header().state_codec != codec)
      throw Error(str(a.out, ": the index stores states as ",
                      index::state_codec_name(idx.header().state_codec), ", not ", *a.state_dtype,
                      " (omit --state-dtype to use the index's)"));
  }
  Engine engine(a.engine);

  std::ifstream file;
  std::istream* in = &std::cin;
  if (a.input != "-") {
    file.open(a.input, std::ios::binary);
    if (!file) throw Error(str(a.input, ": cannot open input file"));
    in = &file;
  }
  const std::string name = a.input == "-" ? "stdin" : a.input;
  Progress progress(count_lines(a.input));
  long done = 0, added = 0, updated = 0, skipped = 0, changed = 0, tokens = 0, batch_tokens = 0;
  std::vector<index::IndexDocument> batch;
  auto last_save = Clock::now();
  auto flush = [&] {
    if (batch.empty()) return;
    const auto r = idx.add(batch, m, a.update, engine.kt, engine.pool, a.engine.chunk_tokens);
    added += static_cast<long>(r.added.size());
    updated += static_cast<long>(r.updated.size());
    skipped += static_cast<long>(r.skipped.size());
    changed += static_cast<long>(r.changed_skipped);
    tokens += r.tokens;
    batch.clear();
    batch_tokens = 0;
    progress.update(done, added + updated);
    if (std::chrono::duration<double>(Clock::now() - last_save).count() >= a.save_every) {
      idx.save_ann();
      last_save = Clock::now();
    }
  };
  std::string line;
  for (long n = 1; std::getline(*in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto doc = parse_document(line, str(name, ": line ", n));
    ++done;
    if (!a.update && idx.store().lookup({doc.id})[0]) {  // resume: already stored
      ++skipped;
      if (done % 1024 == 0) progress.update(done, added + updated);
      continue;
    }
    batch_tokens += static_cast<long>(m.encode(doc.body()).size()) + 1;
    batch.push_back(std::move(doc));
    if (batch_tokens >= a.batch_tokens) flush();
  }
  flush();
  progress.update(done, added + updated);
  progress.finish();
  idx.save_ann();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  const auto st = idx.stats();
  nlohmann::json out = {{"index", a.out},
                        {"added", added},
                        {"updated", updated},
                        {"skipped", skipped},
                        {"documents", st.documents},
                        {"tokens", tokens},
                        {"seconds", secs},
                        {"docs_per_second", secs > 0 ? (added + updated) / secs : 0.0},
                        {"state_dtype", index::state_codec_name(idx.header().state_codec)},
                        {"store_bytes", st.store_bytes},
                        {"ann_bytes", st.ann_bytes}};
  if (changed > 0) out["changed_but_skipped"] = changed;
  print_line(out);
}

}  // namespace

void add_index_command(CLI::App& app) {
  auto a = std::make_shared<IndexArgs>();
  auto* cmd = app.add_subcommand(
      "index",
      "Build or extend a document index: [RETR] embeddings in a vector index and offline-rerank states in an "
      "LMDB store (docs/index-format.md); prints a JSON summary");
  cmd->add_option("--out", a->out, "Index directory (created if missing)")->required();
  cmd->add_option("--model", a->model, "Embedding checkpoint (.pth or .safetensors)")->envname("RWKV_MODEL");
  cmd->add_option("--reranker", a->reranker, "Reranker checkpoint (recorded; search uses it)")
      ->envname("RWKV_RERANKER");
  cmd->add_option("--input", a->input,
                  "JSON-lines documents ('-' = stdin): {\"id\", \"text\"[, \"title\"][, \"metadata\"]}");
  cmd->add_option("--vocab", a->vocab,
                  "World vocab file; default: $RWKV_VOCAB, next to the model, or the user data dir");
  cmd->add_option(
      "--state-dtype", a->state_dtype,
      "State storage of a new index: fp32 (exact, default), bf16, fp16 or int8; an existing index "
      "keeps its own");
  cmd->add_option("--batch-tokens", a->batch_tokens,
                  "Document tokens per batch; each batch is one forward pass and one committed transaction")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--update", a->update, "Re-index stored ids whose title, text or metadata changed");
  cmd->add_option("--delete", a->remove_ids, "Delete these document ids instead of indexing")
      ->expected(1, -1);
  cmd->add_flag("--info", a->info, "Print the index header and statistics (read-only)");
  cmd->add_option("--save-every", a->save_every, "Seconds between saves of the vector index during a run")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--hnsw-m", a->hnsw_m, "HNSW graph degree of a new index")->check(CLI::Range(2, 256));
  cmd->add_option("--ef-construction", a->ef_construction, "HNSW build beam width of a new index")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--doc-template", a->templ.document_part,
                  "Document part of the rerank prompt ({document} is replaced); recorded in the index");
  cmd->add_option("--query-template", a->templ.query_part,
                  "Query part of the rerank prompt ({query} is replaced); recorded in the index");
  a->engine.add_to(*cmd);
  cmd->callback([a] {
    if (a->info)
      run_info(*a);
    else if (!a->remove_ids.empty())
      run_delete(*a);
    else
      run_index(*a);
  });
}

}  // namespace rwkv::cli

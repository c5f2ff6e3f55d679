// rwkv bench --index-bench: indexing throughput, storage per document, query latency and reranked pairs/s
// of the document index, against online reranking of the same candidates.
#include "cli/bench_index.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <random>

#include "index/doc_index.h"
#include "model/synth.h"
#include "model/x070_model.h"
#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv::cli {

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// n bytes of lowercase words: with the byte-level encoder below, exactly n tokens.
std::string random_text(std::size_t n, std::mt19937& rng) {
  std::string s;
  while (s.size() < n) s += (rng() % 6 == 0 && !s.empty() && s.back() != ' ') ? ' ' : char('a' + rng() % 26);
  return s;
}

// One token per byte (World ids 1..256 are the single bytes), so lengths are exact without a vocab file.
std::vector<TokenId> byte_tokens(std::string_view t) {
  std::vector<TokenId> ids;
  ids.reserve(t.size());
  for (unsigned char c : t) ids.push_back(static_cast<TokenId>(c) + 1);
  return ids;
}

struct QueryTimes {
  double embed = 0, ann = 0, fetch = 0, rerank = 0;
  double total() const { return embed + ann + fetch + rerank; }
};

nlohmann::json bench_length(const IndexBenchArgs& a, int doc_tokens, const index::IndexModels& m,
                            Engine& engine, const fs::path& dir, int chunk_tokens) {
  std::mt19937 rng(static_cast<unsigned>(doc_tokens));
  std::vector<index::IndexDocument> docs;
  for (int i = 0; i < a.candidates; ++i)
    docs.push_back({str("d", i), "", random_text(static_cast<std::size_t>(doc_tokens), rng), nullptr});
  const RerankTemplate templ;
  // The query: template + text + EOS = query_tokens tokens.
  const long query_text =
      std::max<long>(1, a.query_tokens - static_cast<long>(templ.query_text("").size()) - 1);
  const std::string query = random_text(static_cast<std::size_t>(query_text), rng);
  nlohmann::json r = {
      {"doc_tokens", doc_tokens}, {"candidates", a.candidates}, {"query_tokens", a.query_tokens}};

  // Indexing (fp32 states), batches of ~16k tokens as rwkv index makes them.
  const fs::path fp32_dir = dir / str(doc_tokens, "-fp32");
  {
    index::DocumentIndex idx(fp32_dir, index::DocumentIndex::Mode::Write);
    idx.init(m.header(templ, index::StateCodec::F32));
    const std::size_t per_batch = std::max<std::size_t>(1, 16384 / static_cast<std::size_t>(doc_tokens));
    const auto t0 = Clock::now();
    for (std::size_t b = 0; b < docs.size(); b += per_batch) {
      const std::vector<index::IndexDocument> batch(
          docs.begin() + static_cast<long>(b),
          docs.begin() + static_cast<long>(std::min(docs.size(), b + per_batch)));
      idx.add(batch, m, false, engine.kt, engine.pool, chunk_tokens);
    }
    idx.save_ann();
    const double secs = since(t0);
    r["index"] = {
        {"seconds", secs},
        {"docs_per_second", docs.size() / secs},
        {"tokens_per_second", docs.size() * (2.0 * doc_tokens + templ.document_text("").size() + 1) / secs},
        {"note", "two forward passes per document: the [RETR] embedding and the rerank state"}};
  }
  RerankPipeline pipe(m.embedder->model(), *m.reranker, m.encode);
  RerankOptions ro;
  ro.offline = true;
  ro.chunk_tokens = chunk_tokens;
  std::vector<float> fp32_logits;
  std::vector<std::uint64_t> candidate_keys;
  nlohmann::json dtypes = nlohmann::json::array();
  for (const auto& name : a.dtypes) {
    const auto codec = index::parse_state_codec(name);
    const fs::path d = codec == index::StateCodec::F32 ? fp32_dir : dir / str(doc_tokens, "-", name);
    if (codec != index::StateCodec::F32) {
      index::DocumentIndex src(fp32_dir, index::DocumentIndex::Mode::Read);
      index::DocumentIndex dst(d, index::DocumentIndex::Mode::Write);
      dst.init(m.header(templ, codec));
      dst.import_from(src);
      dst.save_ann();
    }
    index::DocumentIndex idx(d, index::DocumentIndex::Mode::Read);
    const index::IndexStats st = idx.stats();
    // Median of 3 after a warm-up.
    std::vector<QueryTimes> runs;
    std::vector<float> logits;
    for (int rep = 0; rep < 4; ++rep) {
      QueryTimes t;
      auto t0 = Clock::now();
      const auto q = policy_simple(m.encode(query));
      EmbedInput in{q};
      const auto qvec =
          m.embedder->embed({&in, 1}, Task::Retr, true, engine.kt, engine.pool, chunk_tokens)[0];
      t.embed = since(t0);
      t0 = Clock::now();
      const auto hits = idx.ann().search(qvec.data(), static_cast<std::size_t>(a.candidates), 256, false);
      t.ann = since(t0);
      std::vector<std::uint64_t> keys;
      for (const auto& h : hits) keys.push_back(h.key);
      if (candidate_keys.empty()) {
        candidate_keys = keys;
        std::sort(candidate_keys.begin(), candidate_keys.end());
      }
      t0 = Clock::now();
      auto states = idx.store().states(candidate_keys, idx.header(), &engine.pool);
      t.fetch = since(t0);
      t0 = Clock::now();
      const auto res = pipe.score_states(query, std::move(states), ro, engine.kt, engine.pool);
      t.rerank = since(t0);
      logits.clear();
      for (const auto& x : res) logits.push_back(x.logit);
      if (rep > 0) runs.push_back(t);
    }
    std::sort(runs.begin(), runs.end(), [](const auto& x, const auto& y) { return x.total() < y.total(); });
    const QueryTimes& t = runs[runs.size() / 2];
    if (codec == index::StateCodec::F32) fp32_logits = logits;
    double drift = 0;
    for (std::size_t i = 0; i < logits.size() && i < fp32_logits.size(); ++i)
      drift = std::max(drift, std::fabs(static_cast<double>(logits[i]) - fp32_logits[i]));
    const auto state_bytes = index::state_record_size(idx.header().dims, codec);
    dtypes.push_back({{"dtype", name},
                      {"store_bytes_per_doc", static_cast<double>(st.store_bytes) / st.documents},
                      {"state_record_bytes", state_bytes},
                      {"ann_bytes_per_doc", static_cast<double>(st.ann_bytes) / st.documents},
                      {"query_ms",
                       {{"embed", 1e3 * t.embed},
                        {"ann", 1e3 * t.ann},
                        {"fetch_decode", 1e3 * t.fetch},
                        {"rerank", 1e3 * t.rerank},
                        {"total", 1e3 * t.total()}}},
                      {"pairs_per_second", a.candidates / (t.fetch + t.rerank)},
                      {"state_gb_per_second", a.candidates * state_bytes / t.fetch / 1e9},
                      {"max_logit_drift_vs_fp32", drift}});
  }
  r["dtypes"] = dtypes;
  // Online reranking of the same candidates (document + query in one pass).
  const int n_online = a.online_candidates > 0 ? std::min(a.online_candidates, a.candidates) : a.candidates;
  std::vector<std::string> texts;
  for (int i = 0; i < n_online; ++i)
    texts.push_back(docs[static_cast<std::size_t>(candidate_keys[i] - 1)].text);
  RerankOptions online;
  online.chunk_tokens = chunk_tokens;
  const auto t0 = Clock::now();
  pipe.score(query, texts, online, engine.kt, engine.pool);
  const double secs = since(t0);
  r["online"] = {{"candidates", n_online}, {"seconds", secs}, {"pairs_per_second", n_online / secs}};
  r["offline_speedup_vs_online"] = dtypes[0]["pairs_per_second"].get<double>() / (n_online / secs);
  return r;
}

}  // namespace

std::shared_ptr<IndexBenchArgs> add_index_bench_options(CLI::App& cmd) {
  auto a = std::make_shared<IndexBenchArgs>();
  cmd.add_flag(
      "--index-bench", a->enabled,
      "Benchmark the document index instead: indexing docs/s, bytes/doc per state dtype, query latency "
      "and reranked pairs/s vs online reranking");
  cmd.add_option("--index-doc-tokens", a->doc_tokens, "--index-bench: document lengths")
      ->delimiter(',')
      ->check(CLI::Range(8, 1 << 20));
  cmd.add_option("--index-candidates", a->candidates,
                 "--index-bench: documents indexed and reranked per query")
      ->check(CLI::Range(1, 100000));
  cmd.add_option("--index-query-tokens", a->query_tokens,
                 "--index-bench: query tokens (template and EOS included)")
      ->check(CLI::Range(9, 1 << 16));
  cmd.add_option("--index-online-candidates", a->online_candidates,
                 "--index-bench: candidates reranked online for the comparison (0 = all)")
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--index-dtypes", a->dtypes, "--index-bench: state dtypes (the first should be fp32)")
      ->delimiter(',');
  cmd.add_option("--index-reranker", a->reranker, "--index-bench: reranker checkpoint (default: synthetic)");
  return a;
}

void run_index_bench(const IndexBenchArgs& a, const std::string& model, int layers, int embd,
                     const EngineOptions& eo) {
  if (a.dtypes.empty() || a.dtypes[0] != "fp32") throw Error("--index-dtypes must start with fp32");
  const fs::path dir = fs::temp_directory_path() / str("rwkv-index-bench-", getpid());
  fs::create_directories(dir);
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(p, ec);
    }
  } cleanup{dir};
  std::string emb_path = model, rr_path = a.reranker;
  nlohmann::json r;
  if (emb_path.empty()) {
    SynthSpec s;
    s.layers = layers;
    s.embd = embd;
    emb_path = (dir / "emb.safetensors").string();
    write_synthetic_model(s, emb_path);
    r["model"] = {{"synthetic", true}, {"layers", layers}, {"embd", embd}, {"note", "random weights"}};
  } else {
    r["model"] = {{"path", model}};
  }
  auto ckpt = std::make_shared<const Checkpoint>(Checkpoint::open(emb_path));
  Embedder embedder(ckpt, eo.weight_precision());
  if (rr_path.empty()) {
    SynthSpec s;
    s.kind = "x070-reranker";
    s.layers = 2;
    s.embd = embedder.dim();
    rr_path = (dir / "rr.safetensors").string();
    write_synthetic_model(s, rr_path);
  }
  auto rr_ckpt = std::make_shared<const Checkpoint>(Checkpoint::open(rr_path));
  StateReranker reranker(rr_ckpt, embedder.model().dims(), eo.weight_precision());
  index::IndexModels m;
  m.embedder = &embedder;
  m.reranker = &reranker;
  m.encode = byte_tokens;
  m.model_path = emb_path;
  m.reranker_path = rr_path;
  m.reranker_fingerprint = checkpoint_fingerprint(*rr_ckpt, "reranker.");
  Engine engine(eo);
  const auto& d = embedder.model().dims();
  r["model"]["dims"] = {{"n_layer", d.n_layer}, {"n_embd", d.n_embd}, {"n_head", d.n_head}};
  r["threads"] = engine.pool.size();
  r["isa"] = isa_name(engine.kt.isa);
  r["precision"] = eo.precision;
  r["encoder"] = "one token per byte (exact lengths; no vocab needed)";
  for (const int n : a.doc_tokens)
    r["lengths"].push_back(bench_length(a, n, m, engine, dir, eo.chunk_tokens));
  print_line(r);
}

}  // namespace rwkv::cli

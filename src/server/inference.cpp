// The inference thread of `rwkv serve`.
#include "server/inference.h"

#include <algorithm>
#include <iostream>

#include "kernels/dispatch.h"
#include "model/detect.h"
#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv::server {

std::string Inference::isa() const {
  return std::string(isa_name(kt_->isa));
}
int Inference::threads() const {
  return pool_->size();
}

void Inference::start(std::function<void()> on_failure) {
  // Consecutive embedding jobs share a batch up to the token and request limits; a rerank runs alone.
  auto joins = [this](const std::vector<std::unique_ptr<Job>>& batch, const std::unique_ptr<Job>& next) {
    if (!batch[0]->is_embed || !next->is_embed) return false;
    if (o_.max_batch_requests > 0 && static_cast<long>(batch.size()) >= o_.max_batch_requests) return false;
    long tokens = next->tokens;
    for (const auto& j : batch) tokens += j->tokens;
    return tokens <= o_.max_batch_tokens;
  };
  queue_.start([this] { load(); }, [this](std::vector<std::unique_ptr<Job>>& jobs) { serve(jobs); },
               std::move(on_failure), joins);
}

void Inference::stop() {
  queue_.stop();
}

void Inference::load() {
  const WeightPrecision precision = parse_precision(o_.precision, "--precision");
  kt_ = &kernels_for(select_isa());
  pool_ = std::make_unique<ThreadPool>(o_.threads);
  auto ckpt = std::make_shared<const Checkpoint>(Checkpoint::open(o_.model));
  model_kind_ = detect_model(*ckpt).kind;
  embedder_ = std::make_unique<Embedder>(ckpt, precision);
  if (o_.reranker) {
    auto rr = std::make_shared<const Checkpoint>(Checkpoint::open(*o_.reranker));
    reranker_ = std::make_unique<StateReranker>(rr, embedder_->model().dims(), precision);
  }
  std::optional<std::filesystem::path> flag, model = std::filesystem::path(o_.model);
  if (o_.vocab) flag = *o_.vocab;
  tok_ = std::make_unique<WorldTokenizer>(WorldTokenizer::load(find_world_vocab(flag, model)));
  if (reranker_)
    rerank_ = std::make_unique<RerankPipeline>(embedder_->model(), *reranker_,
                                               [this](std::string_view t) { return tok_->encode(t); });
  // Warm-up: one forward touches every weight page and the kernels' buffers.
  const auto warm = policy_simple(tok_->encode("warm up"));
  EmbedInput in{warm};
  embedder_->embed({&in, 1}, Task::Retr, true, *kt_, *pool_, o_.chunk_tokens);
  if (o_.verbose)
    std::cerr << nlohmann::json{{"isa", isa()}, {"threads", threads()}, {"precision", o_.precision}}.dump()
              << "\n";
}

std::optional<std::uint64_t> Inference::push(std::unique_ptr<Job> job) {
  const std::uint64_t id = job->id = next_id_.fetch_add(1);
  if (!queue_.push(std::move(job))) return std::nullopt;
  return id;
}

bool Inference::cancel(std::uint64_t id) {
  if (!queue_.remove_first([id](const std::unique_ptr<Job>& j) { return j->id == id; })) return false;
  metrics_.cancelled();
  return true;
}

std::optional<Pending<Embeddings>> Inference::submit_embed(std::vector<std::vector<TokenId>> seqs, Task task,
                                                           bool normalize) {
  auto job = std::make_unique<Job>();
  job->seqs = std::move(seqs);
  for (const auto& s : job->seqs) job->tokens += static_cast<long>(s.size());
  job->task = task;
  job->normalize = normalize;
  Pending<Embeddings> p{job->embed_done.get_future()};
  const auto id = push(std::move(job));
  if (!id) return std::nullopt;
  p.id = *id;
  return p;
}

std::optional<Pending<std::vector<RerankResult>>> Inference::submit_rerank(std::string query,
                                                                           std::vector<std::string> docs) {
  auto job = std::make_unique<Job>();
  job->is_embed = false;
  job->query = std::move(query);
  job->docs = std::move(docs);
  Pending<std::vector<RerankResult>> p{job->rerank_done.get_future()};
  const auto id = push(std::move(job));
  if (!id) return std::nullopt;
  p.id = *id;
  return p;
}

void Inference::serve(std::vector<std::unique_ptr<Job>>& jobs) {
  if (jobs[0]->is_embed)
    run_embeds(jobs);
  else
    run_rerank(*jobs[0]);
}

void Inference::run_embeds(std::vector<std::unique_ptr<Job>>& jobs) {
  std::vector<EmbedInput> inputs;
  long tokens = 0;
  for (const auto& j : jobs) {
    for (const auto& s : j->seqs) inputs.push_back({s});
    tokens += j->tokens;
  }
  metrics_.batch(static_cast<long>(jobs.size()), tokens);
  try {
    auto feats = embedder_->features(inputs, *kt_, *pool_, nullptr, o_.chunk_tokens);
    // One head pass per run of consecutive jobs with the same task (usually the whole batch).
    for (std::size_t n = 0, k = 0; n < jobs.size();) {
      std::size_t end = n, rows = 0;
      for (; end < jobs.size() && jobs[end]->task == jobs[n]->task; ++end) rows += jobs[end]->seqs.size();
      embedder_->apply_head(jobs[n]->task, std::span(feats).subspan(k, rows), *kt_, *pool_);
      n = end, k += rows;
    }
    std::vector<Embeddings> outs(jobs.size());
    std::size_t k = 0;
    for (std::size_t n = 0; n < jobs.size(); ++n) {
      for (std::size_t i = 0; i < jobs[n]->seqs.size(); ++i, ++k) {
        auto& v = feats[k];
        if (jobs[n]->normalize) l2_normalize(v);
        outs[n].push_back(std::move(v));
      }
    }
    for (std::size_t n = 0; n < jobs.size(); ++n) jobs[n]->embed_done.set_value(std::move(outs[n]));
  } catch (...) {
    // Run each request alone so that only the failing one gets the error.
    for (auto& j : jobs) {
      try {
        std::vector<EmbedInput> one;
        for (const auto& s : j->seqs) one.push_back({s});
        j->embed_done.set_value(embedder_->embed(one, j->task, j->normalize, *kt_, *pool_, o_.chunk_tokens));
      } catch (...) {
        j->embed_done.set_exception(std::current_exception());
      }
    }
  }
}

void Inference::run_rerank(Job& job) {
  try {
    RerankOptions ro;
    long tokens = 0;
    for (const auto& d : job.docs)
      tokens += static_cast<long>(tok_->encode(ro.templ.online_text(d, job.query)).size()) + 1;
    metrics_.batch(1, tokens);
    ro.chunk_tokens = o_.chunk_tokens;
    job.rerank_done.set_value(rerank_->score(job.query, job.docs, ro, *kt_, *pool_));
  } catch (...) {
    job.rerank_done.set_exception(std::current_exception());
  }
}

}  // namespace rwkv::server

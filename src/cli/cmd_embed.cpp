// rwkv embed: sentence embeddings from an EmbeddingRWKV checkpoint, one JSON line per input, in order.
// --pooling state: the RWKV-4 "simple state embedding" (last layer aa/bb after the text) instead.
#include <functional>
#include <memory>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/inputs.h"
#include "model/detect.h"
#include "model/language_model.h"
#include "model/x040_state.h"
#include "pipeline/embedder.h"
#include "pipeline/preprocess.h"
#include "rwkv/error.h"
#include "tokenizer/tokenizer_select.h"
#include "util/strcat.h"

namespace rwkv::cli {

namespace {

struct EmbedArgs {
  std::string model, input, task = "retr", policy = "simple", pooling = "eos", tokenizer;
  std::optional<std::string> vocab;
  const CLI::Option *task_opt = nullptr, *policy_opt = nullptr, *tokenizer_opt = nullptr;
  std::vector<std::string> texts;
  bool no_normalize = false;
  int ctx_len = 2048, eos_chunk = 512;
  bool pad_to_16 = false;
  long batch_tokens = 16384;
  EngineOptions engine;
};

// Embeds seqs in consecutive batches of at most batch_tokens tokens (at least one input each) with
// embed(begin, end), and prints one line per input in order. When a batch fails, its inputs run one at a
// time so that the error names the input (its `where`) that causes it.
void print_in_batches(
    const std::vector<std::vector<TokenId>>& seqs, const std::vector<TextOrTokens>& inputs, long batch_tokens,
    const std::function<std::vector<std::vector<float>>(std::size_t begin, std::size_t end)>& embed) {
  for (std::size_t begin = 0, end = 0; begin < seqs.size(); begin = end) {
    long tokens = 0;
    for (end = begin;
         end < seqs.size() && (end == begin || tokens + static_cast<long>(seqs[end].size()) <= batch_tokens);)
      tokens += static_cast<long>(seqs[end++].size());
    std::vector<std::vector<float>> vecs;
    try {
      vecs = embed(begin, end);
    } catch (const Error&) {
      for (std::size_t i = begin; i < end; ++i) {
        try {
          embed(i, i + 1);
        } catch (const Error& inner) {
          throw Error(str(inputs[i].where, ": ", inner.what()));
        }
      }
      throw;
    }
    for (std::size_t i = begin; i < end; ++i)
      print_line({{"index", i}, {"embedding", vecs[i - begin]}, {"tokens", seqs[i].size()}});
  }
}

// The RWKV-4 simple state embedding: each input from the zero state, then aa/bb of the last layer.
void run_state_embed(const EmbedArgs& a) {
  for (const auto* opt : {a.task_opt, a.policy_opt})
    if (opt->count() > 0)
      throw Error(str(opt->get_name(), " does not apply to --pooling state (it uses no task head or EOS)"));
  auto ckpt = std::make_shared<const Checkpoint>(Checkpoint::open(a.model));
  const std::string kind = detect_model(*ckpt).kind;
  if (kind != "x040-lm")
    throw Error(str(a.model, ": --pooling state needs an RWKV-4 (x040) language model, whose last layer has ",
                    "the aa/bb state; this checkpoint is '", kind, "' (use the default --pooling eos for ",
                    "EmbeddingRWKV models)"));
  const auto lm = load_language_model(ckpt, a.engine.weight_precision(), a.engine.chunk_tokens);
  Engine engine(a.engine);
  std::optional<std::filesystem::path> vocab;
  if (a.vocab) vocab = *a.vocab;
  std::unique_ptr<Tokenizer> tok;
  const auto inputs = collect_inputs(a.texts, a.input);
  std::vector<std::vector<TokenId>> seqs;
  for (const auto& in : inputs) {
    if (in.has_tokens) {
      seqs.push_back(in.tokens);
    } else {
      if (!tok) tok = load_tokenizer(a.tokenizer, ModelHint::kRwkv4, std::filesystem::path(a.model), vocab);
      seqs.push_back(tok->encode(in.text));
    }
    if (seqs.back().empty())
      throw Error(str(in.where, ": no tokens (the state embedding needs at least one)"));
  }
  print_in_batches(seqs, inputs, a.batch_tokens, [&](std::size_t begin, std::size_t end) {
    std::vector<std::unique_ptr<LmState>> states;
    std::vector<LmRequest> batch;
    for (std::size_t i = begin; i < end; ++i) {
      states.push_back(lm->zero_state());
      batch.push_back({seqs[i], states.back().get(), nullptr});
    }
    lm->forward_batch(batch, engine.kt, engine.pool);
    std::vector<std::vector<float>> vecs;
    for (const auto& st : states) {
      vecs.push_back(dynamic_cast<const X040State&>(*st).state_embedding());
      if (!a.no_normalize) l2_normalize(vecs.back());
    }
    return vecs;
  });
}

void run_embed(const EmbedArgs& a) {
  if (a.pooling == "state") return run_state_embed(a);
  if (a.pooling != "eos") throw Error(str("--pooling: unknown '", a.pooling, "' (expected eos or state)"));
  if (a.tokenizer_opt->count() > 0) throw Error("--tokenizer applies to --pooling state only");
  auto ckpt = std::make_shared<const Checkpoint>(Checkpoint::open(a.model));
  Embedder embedder(ckpt, a.engine.weight_precision());
  Engine engine(a.engine);
  const Task task = parse_task(a.task);
  const EmbedPolicy policy = parse_policy(a.policy);
  LazyTokenizer tok(a.vocab, a.model);
  const auto inputs = collect_inputs(a.texts, a.input);
  std::vector<std::vector<TokenId>> seqs;
  for (const auto& in : inputs) {
    if (in.has_tokens) {
      seqs.push_back(in.tokens);
    } else {
      auto ids = tok.get().encode(in.text);
      seqs.push_back(policy == EmbedPolicy::Simple
                         ? policy_simple(ids)
                         : policy_multi_eos(ids, {a.ctx_len, a.eos_chunk, a.pad_to_16}));
    }
  }
  // Batches bounded by token count; results do not depend on the batching.
  print_in_batches(seqs, inputs, a.batch_tokens, [&](std::size_t begin, std::size_t end) {
    std::vector<EmbedInput> batch;
    for (std::size_t i = begin; i < end; ++i) batch.push_back({seqs[i]});
    return embedder.embed(batch, task, !a.no_normalize, engine.kt, engine.pool, a.engine.chunk_tokens);
  });
}

}  // namespace

void add_embed_command(CLI::App& app) {
  auto args = std::make_shared<EmbedArgs>();
  auto* cmd = app.add_subcommand(
      "embed", "Sentence embeddings (EmbeddingRWKV); prints {\"index\",\"embedding\",\"tokens\"} per input");
  cmd->add_option("--model", args->model, "Embedding checkpoint (.pth or .safetensors)")
      ->required()
      ->envname("RWKV_MODEL");
  cmd->add_option("--vocab", args->vocab,
                  "World vocab file (rwkv_vocab_v20230424.txt); default: $RWKV_VOCAB, next to the model, or "
                  "the user data dir");
  args->task_opt = cmd->add_option("--task", args->task, "Task head: retr (default), sts or cls");
  cmd->add_flag("--no-normalize", args->no_normalize,
                "Print the raw head output instead of the L2-normalised vector");
  args->policy_opt =
      cmd->add_option("--policy", args->policy,
                      "Preprocessing of text inputs: simple (text + EOS) or multi-eos (MTEB protocol)");
  cmd->add_option("--pooling", args->pooling,
                  "eos (default): EmbeddingRWKV, pooled at the EOS tokens with a task head; state: the "
                  "RWKV-4 simple state embedding (last layer aa/bb after the text, no EOS) of an RWKV-4 "
                  "language model, with the 20B tokenizer");
  args->tokenizer_opt = cmd->add_option(
      "--tokenizer", args->tokenizer,
      "--pooling state only: 20b (default), world, or a tokenizer file (.json HF / .txt World vocab)");
  cmd->add_option("--ctx-len", args->ctx_len, "multi-eos: context length")->check(CLI::PositiveNumber);
  cmd->add_option("--eos-chunk", args->eos_chunk, "multi-eos: tokens per EOS")->check(CLI::PositiveNumber);
  cmd->add_flag("--pad-to-16", args->pad_to_16,
                "multi-eos: left-pad with id 261 to a multiple of 16 tokens, as the evaluation wrapper does");
  cmd->add_option("--batch-tokens", args->batch_tokens, "Tokens per batch of inputs")
      ->check(CLI::PositiveNumber);
  cmd->add_option(
      "--input", args->input,
      "JSON-lines file ('-' = stdin) of {\"text\": ...} or {\"tokens\": [...]} (tokens are used as given)");
  cmd->add_option("texts", args->texts, "Texts to embed");
  args->engine.add_to(*cmd);
  cmd->callback([args] { run_embed(*args); });
}

}  // namespace rwkv::cli

// rwkv logits: runs a language model (RWKV-4 or RWKV-7 with an LM head) over a list of token ids from the
// zero state and prints the logits after the last token as one JSON object.
#include <charconv>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/common.h"
#include "model/language_model.h"
#include "rwkv/error.h"
#include "tokenizer/tokenizer_select.h"

namespace rwkv::cli {

namespace {

struct LogitsArgs {
  std::string model;
  std::vector<TokenId> tokens;
  std::optional<std::string> text, vocab;  // --text: tokenised with --tokenizer (--vocab for World)
  std::string tokenizer;
  EngineOptions engine;
};

// The shortest decimal that reads back as the same float (JSON output stays exact and compact).
double shortest(float f) {
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof(buf), f);
  return std::stod(std::string(buf, res.ptr));
}

void run_logits(LogitsArgs& a) {
  if (!a.text && a.tokens.empty()) throw Error("--tokens: give at least one token id (or --text)");
  auto ckpt = std::make_shared<const Checkpoint>(Checkpoint::open(a.model));
  auto lm = load_language_model(ckpt, a.engine.weight_precision(), a.engine.chunk_tokens);
  if (a.text) {
    std::optional<std::filesystem::path> vocab;
    if (a.vocab) vocab = *a.vocab;
    a.tokens = load_tokenizer(a.tokenizer, lm->arch() == "x040" ? ModelHint::kRwkv4 : ModelHint::kRwkv7,
                              std::filesystem::path(a.model), vocab)
                   ->encode(*a.text);
    if (a.tokens.empty()) throw Error("--text: no tokens (give a non-empty text)");
  }
  Engine engine(a.engine);
  auto state = lm->zero_state();
  std::vector<float> logits(static_cast<std::size_t>(lm->vocab_size()));
  lm->forward(a.tokens, *state, logits.data(), engine.kt, engine.pool);
  nlohmann::json out = nlohmann::json::object();
  out["arch"] = lm->arch();
  out["n_tokens"] = a.tokens.size();
  std::size_t best = 0;
  auto& list = out["logits"] = nlohmann::json::array();
  for (std::size_t i = 0; i < logits.size(); ++i) {
    list.push_back(shortest(logits[i]));
    if (logits[i] > logits[best]) best = i;
  }
  out["argmax"] = best;
  print_line(out);
}

}  // namespace

void add_logits_command(CLI::App& app) {
  auto args = std::make_shared<LogitsArgs>();
  auto* cmd =
      app.add_subcommand("logits",
                         "Logits of a language model (RWKV-4 or RWKV-7 with head.weight) after the last of "
                         "the given tokens, from the zero state; prints {\"arch\",\"n_tokens\",\"logits\","
                         "\"argmax\"}");
  cmd->add_option("--model", args->model, "Language model checkpoint (.pth or .safetensors)")
      ->required()
      ->envname("RWKV_MODEL");
  auto* tokens = cmd->add_option("--tokens", args->tokens, "Token ids, comma-separated (e.g. 187,510,1563)")
                     ->delimiter(',');
  cmd->add_option("--text", args->text, "Text to tokenise instead of --tokens (no BOS/EOS added)")
      ->excludes(tokens);
  cmd->add_option(
      "--tokenizer", args->tokenizer,
      "For --text: world, 20b or a tokenizer file (.json HF / .txt World vocab); default: 20b for "
      "RWKV-4, world for RWKV-7");
  cmd->add_option("--vocab", args->vocab, "For --text with the World tokenizer: the vocab file");
  args->engine.add_to(*cmd);
  cmd->callback([args] { run_logits(*args); });
}

}  // namespace rwkv::cli

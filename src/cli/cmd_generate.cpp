// rwkv generate: text generation with an RWKV-4 or RWKV-7 language model. Prints one JSON object (text,
// token ids, finish_reason, timings); with --stream the text goes to stdout as it is produced and the JSON
// summary to stderr.
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/common.h"
#include "model/language_model.h"
#include "pipeline/generator.h"
#include "rwkv/error.h"
#include "tokenizer/tokenizer_select.h"
#include "util/strcat.h"

namespace rwkv::cli {

namespace {

struct GenerateArgs {
  std::string model, tokenizer, prompt;
  std::optional<std::string> vocab;
  GenerateOptions gen;
  std::optional<std::uint64_t> seed;
  bool stream = false, ignore_eos = false;
  EngineOptions engine;
};

double per_second(std::size_t n, double seconds) {
  return seconds > 0 ? static_cast<double>(n) / seconds : 0.0;
}

void run_generate(GenerateArgs& a) {
  a.gen.seed = a.seed;
  a.gen.stop_at_end_of_text = !a.ignore_eos;
  a.gen.validate();  // before the (slow) model load
  auto ckpt = std::make_shared<const Checkpoint>(Checkpoint::open(a.model));
  auto lm = load_language_model(ckpt, a.engine.weight_precision(), a.engine.chunk_tokens);
  std::optional<std::filesystem::path> vocab;
  if (a.vocab) vocab = *a.vocab;
  const auto tok = load_tokenizer(a.tokenizer, lm->arch() == "x040" ? ModelHint::kRwkv4 : ModelHint::kRwkv7,
                                  std::filesystem::path(a.model), vocab);
  Engine engine(a.engine);
  Generator gen(*lm, *tok, engine.kt, engine.pool);
  TextSink sink;
  if (a.stream)
    sink = [](std::string_view piece) {
      std::cout << piece << std::flush;
      return true;
    };
  const auto r = gen.generate(a.prompt, a.gen, sink);
  nlohmann::json out = {{"text", r.text},
                        {"tokens", r.tokens},
                        {"finish_reason", r.finish_reason},
                        {"prompt_tokens", r.prompt_tokens.size()},
                        {"completion_tokens", r.tokens.size()},
                        {"seed", r.seed},
                        {"arch", lm->arch()},
                        {"tokenizer", tok->name()},
                        {"timings",
                         {{"prompt_seconds", r.prompt_seconds},
                          {"decode_seconds", r.decode_seconds},
                          {"prompt_tokens_per_s", per_second(r.prompt_tokens.size(), r.prompt_seconds)},
                          {"decode_tokens_per_s", per_second(r.tokens.size(), r.decode_seconds)}}}};
  if (!r.stop_string.empty()) out["stop_string"] = r.stop_string;
  if (a.stream) {
    std::cout << "\n" << std::flush;
    std::cerr << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    print_line(out);
  }
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto args = std::make_shared<GenerateArgs>();
  auto* cmd = app.add_subcommand(
      "generate",
      "Generate text with a language model (RWKV-4 Pile or RWKV-7 with head.weight); prints {\"text\", "
      "\"tokens\", \"finish_reason\", \"timings\", ...}.\n"
      "Sampling follows ChatRWKV, per step: (1) penalties: logit[t] -= presence + frequency * count[t] for "
      "every generated token t (counts decay by --penalty-decay per step; spaces, tabs and digits count 0);"
      " (2) temperature 0 = greedy (arg-max); (3) softmax; (4) top-p at temperature 1 (ties with the "
      "cutoff kept); (5) top-k; (6) p^(1/T); (7) normalise and draw with the seeded generator. "
      "See docs/generation.md.");
  cmd->add_option("--model", args->model, "Language model checkpoint (.pth or .safetensors)")
      ->required()
      ->envname("RWKV_MODEL");
  cmd->add_option("--tokenizer", args->tokenizer,
                  "world, 20b, or a PATH (.json = HF tokenizer.json, .txt = World vocab); default: 20b for "
                  "RWKV-4, world for RWKV-7");
  cmd->add_option("--vocab", args->vocab,
                  "World vocab file for --tokenizer world; default: $RWKV_VOCAB, next to the model, or the "
                  "user data dir");
  cmd->add_option("--prompt", args->prompt, "Prompt text (at least one token)")->required();
  cmd->add_option("--max-tokens", args->gen.max_tokens, "Tokens to generate at most (default 100)")
      ->check(CLI::Range(0, 1 << 24));
  cmd->add_option("--temperature", args->gen.sampling.temperature,
                  "Sampling temperature, >= 0; 0 = greedy (default 1)");
  cmd->add_option("--top-p", args->gen.sampling.top_p,
                  "Nucleus: keep the most probable tokens up to this mass, in (0, 1] (default 1 = all)");
  cmd->add_option("--top-k", args->gen.sampling.top_k, "Keep the k most probable tokens (default 0 = off)");
  cmd->add_option("--presence-penalty", args->gen.sampling.presence_penalty,
                  "Subtracted from the logit of every token generated so far (default 0)");
  cmd->add_option("--frequency-penalty", args->gen.sampling.frequency_penalty,
                  "Subtracted per (decayed) occurrence of a generated token (default 0)");
  cmd->add_option("--penalty-decay", args->gen.sampling.penalty_decay,
                  "Occurrence counts are multiplied by this each step, in [0, 1] (default 0.996, ChatRWKV)");
  cmd->add_option("--seed", args->seed, "Random seed (default: random; the one used is printed)");
  cmd->add_option("--stop", args->gen.stop,
                  "Stop string (repeatable): generation ends when the text contains it; it is not printed");
  cmd->add_flag("--ignore-eos", args->ignore_eos,
                "Do not stop at <|endoftext|> (id 0); treat it as an ordinary token");
  cmd->add_flag(
      "--stream", args->stream,
      "Write the text to stdout as it is generated, then a newline; the JSON summary goes to stderr");
  args->engine.add_to(*cmd);
  cmd->callback([args] { run_generate(*args); });
}

}  // namespace rwkv::cli

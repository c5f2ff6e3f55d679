// Generator: text generation with a language model. prompt -> tokens -> prefill (one forward over the whole
// prompt from the zero state) -> repeat { sample (sampler.h), stop checks, feed the token back }. Stops on
// max_tokens ("length"), on end-of-text (id 0, not emitted) or a stop string (matched on the decoded bytes
// across token boundaries, not emitted) ("stop"), or when the text sink asks to ("cancelled"). Text is
// streamed through the sink in pieces that never split a UTF-8 character (text_streamer.h).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/dispatch.h"
#include "model/language_model.h"
#include "pipeline/sampler.h"
#include "tokenizer/tokenizer.h"
#include "util/thread_pool.h"

namespace rwkv {

struct GenerateOptions {
  int max_tokens = 100;  // >= 0; tokens generated at most (end-of-text not counted)
  SamplingParams sampling;
  std::optional<std::uint64_t> seed;  // none: a random one (reported in the result)
  std::vector<std::string> stop;      // stop strings, none empty
  bool stop_at_end_of_text = true;    // false: id 0 is an ordinary token
  // Checked before every step; returning true ends generation with finish_reason "cancelled" (e.g. the
  // client went away). May be empty.
  std::function<bool()> cancelled;
  // Throws rwkv::Error naming the field (max_tokens, stop[i], or a sampling field) for a bad value.
  void validate() const;
};

struct GenerateResult {
  std::string text;  // valid UTF-8; the stop string is not included
  std::vector<TokenId> prompt_tokens;
  std::vector<TokenId> tokens;  // generated ids (an end-of-text that stopped generation is not listed)
  std::string finish_reason;    // "length", "stop" or "cancelled"
  std::string stop_string;      // the stop string that ended generation, if any
  std::uint64_t seed = 0;       // the seed the sampler used
  double prompt_seconds = 0;    // prefill of the prompt (tokenisation excluded)
  double decode_seconds = 0;    // every step after the prefill: sampling and one-token forwards
};

// Receives each new piece of text (non-empty, valid UTF-8). Return false to stop ("cancelled").
using TextSink = std::function<bool(std::string_view piece)>;

class Generator {
 public:
  // All four must outlive the generator. The tokenizer must be the model's (ids below lm.vocab_size()).
  Generator(const LanguageModel& lm, const Tokenizer& tok, const KernelTable& kt, ThreadPool& pool)
      : lm_(lm), tok_(tok), kt_(kt), pool_(pool) {}

  // Throws rwkv::Error for an empty prompt ("prompt: ..."), bad options, or text the tokenizer rejects.
  GenerateResult generate(std::string_view prompt, const GenerateOptions& o, const TextSink& sink = {}) const;
  // The same from token ids (at least one, each below lm.vocab_size()).
  GenerateResult generate_tokens(std::span<const TokenId> prompt, const GenerateOptions& o,
                                 const TextSink& sink = {}) const;

  const Tokenizer& tokenizer() const { return tok_; }
  const LanguageModel& model() const { return lm_; }

 private:
  std::string token_text(TokenId id) const;  // bytes of a generated id; "" for special or text-less ids

  const LanguageModel& lm_;
  const Tokenizer& tok_;
  const KernelTable& kt_;
  ThreadPool& pool_;
};

}  // namespace rwkv

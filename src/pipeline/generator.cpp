// The generation loop (see generator.h).
#include "pipeline/generator.h"

#include <chrono>

#include "pipeline/text_streamer.h"
#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv {

void GenerateOptions::validate() const {
  if (max_tokens < 0) throw Error(str("max_tokens: must be >= 0, got ", max_tokens));
  for (std::size_t i = 0; i < stop.size(); ++i)
    if (stop[i].empty()) throw Error(str("stop[", i, "]: empty stop string"));
  sampling.validate();
}

std::string Generator::token_text(TokenId id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= tok_.vocab_size() || tok_.is_special(id)) return {};
  return tok_.token_bytes(id);
}

GenerateResult Generator::generate(std::string_view prompt, const GenerateOptions& o,
                                   const TextSink& sink) const {
  if (prompt.empty()) throw Error("prompt: empty (generation needs at least one prompt token)");
  const auto ids = tok_.encode(prompt);
  return generate_tokens(ids, o, sink);
}

GenerateResult Generator::generate_tokens(std::span<const TokenId> prompt, const GenerateOptions& o,
                                          const TextSink& sink) const {
  using Clock = std::chrono::steady_clock;
  o.validate();
  if (prompt.empty()) throw Error("prompt: no tokens (generation needs at least one prompt token)");
  const int vocab = lm_.vocab_size();
  for (std::size_t i = 0; i < prompt.size(); ++i)
    if (prompt[i] < 0 || prompt[i] >= vocab)
      throw Error(str("prompt: token ", i, " is id ", prompt[i], ", outside the model's vocabulary [0, ",
                      vocab, ")"));
  GenerateResult r;
  r.prompt_tokens.assign(prompt.begin(), prompt.end());
  Sampler sampler(o.sampling, o.seed);
  r.seed = sampler.seed();
  TextStreamer streamer(o.stop);
  const TokenId eot = tok_.end_of_text();

  const auto t0 = Clock::now();
  auto state = lm_.zero_state();
  std::vector<float> logits(static_cast<std::size_t>(vocab));
  lm_.forward(prompt, *state, logits.data(), kt_, pool_);
  const auto t1 = Clock::now();
  r.prompt_seconds = std::chrono::duration<double>(t1 - t0).count();

  auto emit = [&](const std::string& piece) {
    if (piece.empty()) return true;
    r.text += piece;
    return !sink || sink(piece);
  };
  r.finish_reason = "length";
  for (int step = 0; step < o.max_tokens; ++step) {
    if (o.cancelled && o.cancelled()) {
      r.finish_reason = "cancelled";
      break;
    }
    const TokenId next = sampler.sample(logits);
    if (o.stop_at_end_of_text && next == eot) {
      r.finish_reason = "stop";
      break;
    }
    r.tokens.push_back(next);
    const std::string bytes = token_text(next);
    sampler.accept(next, bytes);
    if (!emit(streamer.push(bytes))) {
      r.finish_reason = "cancelled";
      break;
    }
    if (streamer.stopped()) {
      r.finish_reason = "stop";
      r.stop_string = streamer.matched_stop();
      break;
    }
    if (step + 1 == o.max_tokens) break;  // no forward for a token that will not be sampled from
    lm_.forward(std::span<const TokenId>(&next, 1), *state, logits.data(), kt_, pool_);
  }
  if (r.finish_reason != "cancelled") emit(streamer.finish());
  r.decode_seconds = std::chrono::duration<double>(Clock::now() - t1).count();
  return r;
}

}  // namespace rwkv

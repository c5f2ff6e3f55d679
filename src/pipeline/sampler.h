// Token sampling as ChatRWKV does it (PIPELINE.sample_logits and the penalties of PIPELINE.generate), with
// a seeded, portable random generator. One step, in this order:
//   1. penalties on the logits: logit[n] -= presence + occurrence[n] * frequency, for every token n that
//      was generated before (occurrence decays by `penalty_decay` per step; see PenaltyState);
//   2. temperature 0: greedy, the first arg-max of the penalised logits (nothing is drawn);
//   3. p = softmax(logits);
//   4. top-p at temperature 1: sort p descending, cutoff = p at the first index where the cumulative sum
//      reaches top_p; every p < cutoff is dropped (ties with the cutoff survive). top_p = 1 keeps all;
//   5. top-k (0 = off): keep the k largest of the ORIGINAL p (ties broken by the lower id);
//   6. p <- p^(1/T) on the kept tokens, which equals softmax(logits / T) restricted to them;
//   7. normalise and draw one token with the seeded generator.
// Because the nucleus is cut before the temperature is applied, it does not depend on T.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rwkv {

using TokenId = std::int32_t;

struct SamplingParams {
  double temperature = 1.0;  // >= 0; 0 = greedy
  double top_p = 1.0;        // (0, 1]; 1 = no nucleus cut
  int top_k = 0;             // >= 0; 0 = off
  double presence_penalty = 0.0;
  double frequency_penalty = 0.0;
  double penalty_decay = 0.996;  // occurrence counts are multiplied by this before each new token is added
  // Throws rwkv::Error naming the field (temperature, top_p, top_k, presence_penalty, frequency_penalty,
  // penalty_decay) when a value is out of range or not finite.
  void validate() const;
};

// The distribution one step draws from: the kept token ids in increasing order and their normalised
// probabilities (same length, summing to 1).
struct SampleDistribution {
  std::vector<TokenId> ids;
  std::vector<double> probs;
};

// Working memory of filter_distribution, kept between steps so that a step allocates nothing.
struct SampleScratch {
  std::vector<float> e;          // exp(logit - max)
  std::vector<double> bin_mass;  // histogram of e by value
  std::vector<std::uint32_t> bin_count;
  std::vector<TokenId> order;  // members of one bin
};

// Steps 3-6 above on already-penalised logits (temperature must be > 0). Throws rwkv::Error if the logits
// are empty, contain NaN, or are all -inf.
SampleDistribution filter_distribution(std::span<const float> logits, const SamplingParams& params);
// The same into `out`, reusing the buffers of `scratch` and `out`.
void filter_distribution(std::span<const float> logits, const SamplingParams& params, SampleScratch& scratch,
                         SampleDistribution& out);

// The same distribution as a dense vector over the whole vocabulary (zero where dropped); for tests and
// inspection. With temperature 0 it is one-hot at the arg-max.
std::vector<float> filtered_probs(std::span<const float> logits, const SamplingParams& params);

// The first index of the largest logit (NaN is an error).
TokenId argmax_logit(std::span<const float> logits);

// Penalty bookkeeping of ChatRWKV's PIPELINE.generate: occurrence[n] accumulates the weights of the
// generated tokens, decayed by penalty_decay before each addition.
class PenaltyState {
 public:
  // logit[n] -= presence + occurrence[n] * frequency for every n seen so far (weight 0 entries included).
  void apply(std::span<float> logits, double presence, double frequency) const;
  // Decays every existing count, then adds `weight` to the count of `token`.
  void add(TokenId token, double weight, double decay);
  // ChatRWKV's weight for a token: 0 if its decoded text is a substring of " \t0123456789" (spaces, tabs,
  // single digits and runs like "12"), else 1.
  static double weight_for(std::string_view token_bytes);
  std::size_t size() const { return occurrence_.size(); }

 private:
  std::unordered_map<TokenId, double> occurrence_;
};

// One sequence's sampler: the parameters, the penalties seen so far and the random generator.
class Sampler {
 public:
  // Validates the parameters. Without a seed, one is taken from std::random_device (see seed()).
  explicit Sampler(const SamplingParams& params, std::optional<std::uint64_t> seed = std::nullopt);

  // Applies the penalties to `logits` in place, then picks the next token (greedy or a draw).
  TokenId sample(std::span<float> logits);
  // Records a generated token for the penalties, with the weight from PenaltyState::weight_for.
  void accept(TokenId token, std::string_view token_bytes);

  std::uint64_t seed() const { return seed_; }
  const SamplingParams& params() const { return params_; }

 private:
  double uniform();  // [0, 1) from 53 random bits

  SamplingParams params_;
  std::uint64_t seed_;
  std::mt19937_64 rng_;
  PenaltyState penalties_;
  SampleScratch scratch_;
  SampleDistribution dist_;
};

}  // namespace rwkv

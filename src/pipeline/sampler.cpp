// ChatRWKV's sampling filter, penalties and a seeded draw (see sampler.h for the order of the steps).
#include "pipeline/sampler.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv {

void SamplingParams::validate() const {
  if (!std::isfinite(temperature) || temperature < 0)
    throw Error(str("temperature: must be a finite number >= 0 (0 = greedy), got ", temperature));
  if (!std::isfinite(top_p) || !(top_p > 0) || top_p > 1)
    throw Error(str("top_p: must be in (0, 1], got ", top_p));
  if (top_k < 0) throw Error(str("top_k: must be >= 0 (0 = off), got ", top_k));
  if (!std::isfinite(presence_penalty))
    throw Error(str("presence_penalty: must be a finite number, got ", presence_penalty));
  if (!std::isfinite(frequency_penalty))
    throw Error(str("frequency_penalty: must be a finite number, got ", frequency_penalty));
  if (!std::isfinite(penalty_decay) || penalty_decay < 0 || penalty_decay > 1)
    throw Error(str("penalty_decay: must be in [0, 1], got ", penalty_decay));
}

namespace {

// The largest logit; throws on empty input, NaN, or all -inf.
float checked_max(std::span<const float> logits) {
  if (logits.empty()) throw Error("sampling: empty logits");
  float m = -std::numeric_limits<float>::infinity();
  for (std::size_t i = 0; i < logits.size(); ++i) {
    if (std::isnan(logits[i])) throw Error(str("sampling: logit ", i, " is NaN"));
    m = std::max(m, logits[i]);
  }
  if (m == -std::numeric_limits<float>::infinity()) throw Error("sampling: every logit is -inf");
  if (m == std::numeric_limits<float>::infinity()) throw Error("sampling: a logit is +inf");
  return m;
}

}  // namespace

TokenId argmax_logit(std::span<const float> logits) {
  const float m = checked_max(logits);
  for (std::size_t i = 0; i < logits.size(); ++i)
    if (logits[i] == m) return static_cast<TokenId>(i);
  return 0;  // unreachable: checked_max found m among the logits
}

namespace {

// Histogram bins over the bit pattern of a probability numerator e in [0, 1]: for non-negative floats the
// bits grow with the value, so equal values share a bin and bins are ordered like values (8 exponent bits
// and 6 mantissa bits: each bin spans under 1.6 %).
constexpr unsigned kBinShift = 17;
constexpr std::size_t kBins = (0x3F800000u >> kBinShift) + 1;  // up to the bits of 1.0f

std::size_t bin_of(float v) {
  std::uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b >> kBinShift;
}

}  // namespace

void filter_distribution(std::span<const float> logits, const SamplingParams& params, SampleScratch& scratch,
                         SampleDistribution& out) {
  if (!(params.temperature > 0)) throw Error("sampling: filter_distribution needs a temperature > 0");
  const float m = checked_max(logits);
  const std::size_t n = logits.size();
  // Softmax numerators (float, like the reference) and their sum in double.
  auto& e = scratch.e;
  e.resize(n);
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    e[i] = std::exp(logits[i] - m);
    sum += e[i];
  }
  // "Before in probability order": more probable, or as probable with a lower id. The kept set is always a
  // prefix of this order, so it is described by its last member (`last`). Nothing is fully sorted: a
  // histogram finds the bin where a cut falls, and only that bin's members are sorted.
  auto before = [&](TokenId a, TokenId b) { return e[a] > e[b] || (e[a] == e[b] && a < b); };
  std::size_t keep = n;
  TokenId last = -1;  // -1: everything is kept
  const bool cut_p = params.top_p < 1;
  const bool cut_k = params.top_k > 0 && static_cast<std::size_t>(params.top_k) < n;
  if (cut_p || cut_k) {
    scratch.bin_mass.assign(kBins, 0.0);
    scratch.bin_count.assign(kBins, 0);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t b = bin_of(e[i]);
      scratch.bin_mass[b] += e[i];
      ++scratch.bin_count[b];
    }
  }
  // The members of bin `b`, in probability order.
  auto sorted_bin = [&](std::size_t b) -> std::vector<TokenId>& {
    auto& ids = scratch.order;
    ids.clear();
    for (std::size_t i = 0; i < n; ++i)
      if (bin_of(e[i]) == b) ids.push_back(static_cast<TokenId>(i));
    std::sort(ids.begin(), ids.end(), before);
    return ids;
  };

  // Top-p at temperature 1: cutoff = the probability at the first position of the descending order where
  // the running sum reaches top_p; every token with p >= cutoff is kept (ties with the cutoff survive).
  if (cut_p) {
    const double target = params.top_p * sum;
    double acc = 0;  // mass of the bins above b
    std::size_t above = 0;
    for (std::size_t b = kBins; b-- > 0;) {
      if (scratch.bin_count[b] == 0) continue;
      if (acc + scratch.bin_mass[b] < target) {
        acc += scratch.bin_mass[b];
        above += scratch.bin_count[b];
        continue;
      }
      const auto& ids = sorted_bin(b);
      std::size_t j = 0;
      for (; j + 1 < ids.size(); ++j) {
        acc += e[ids[j]];
        if (acc >= target) break;
      }
      const float cutoff = e[ids[j]];
      while (j + 1 < ids.size() && e[ids[j + 1]] == cutoff) ++j;  // ties with the cutoff survive
      keep = above + j + 1;
      last = ids[j];
      break;
    }
    // No bin reached top_p: rounding left the total just below it, so everything stays.
  }
  // Top-k on the original probabilities: the first k of the same order.
  if (cut_k && static_cast<std::size_t>(params.top_k) < keep) {
    keep = static_cast<std::size_t>(params.top_k);
    std::size_t above = 0;
    std::size_t b = kBins;
    while (b-- > 0 && above + scratch.bin_count[b] < keep) above += scratch.bin_count[b];
    last = sorted_bin(b)[keep - above - 1];
  }

  // The kept ids in increasing order, with p^(1/T) = exp((logit - max) / T) up to the normalisation (at
  // T = 1, the softmax numerators themselves).
  out.ids.resize(keep);
  if (last < 0) {
    std::iota(out.ids.begin(), out.ids.end(), 0);
  } else {
    const float e_last = e[static_cast<std::size_t>(last)];
    std::size_t j = 0;
    for (std::size_t t = 0; t < n; ++t)
      if (e[t] > e_last || (e[t] == e_last && static_cast<TokenId>(t) <= last))
        out.ids[j++] = static_cast<TokenId>(t);
  }
  out.probs.resize(keep);
  double total = 0;
  const double inv_t = 1.0 / params.temperature;
  for (std::size_t j = 0; j < keep; ++j) {
    const auto id = static_cast<std::size_t>(out.ids[j]);
    out.probs[j] = params.temperature == 1 ? e[id] : std::exp((static_cast<double>(logits[id]) - m) * inv_t);
    total += out.probs[j];
  }
  for (auto& p : out.probs) p /= total;
}

SampleDistribution filter_distribution(std::span<const float> logits, const SamplingParams& params) {
  SampleScratch scratch;
  SampleDistribution d;
  filter_distribution(logits, params, scratch, d);
  return d;
}

std::vector<float> filtered_probs(std::span<const float> logits, const SamplingParams& params) {
  std::vector<float> out(logits.size(), 0.0f);
  if (params.temperature == 0) {
    out[static_cast<std::size_t>(argmax_logit(logits))] = 1.0f;
    return out;
  }
  const auto d = filter_distribution(logits, params);
  for (std::size_t j = 0; j < d.ids.size(); ++j)
    out[static_cast<std::size_t>(d.ids[j])] = static_cast<float>(d.probs[j]);
  return out;
}

void PenaltyState::apply(std::span<float> logits, double presence, double frequency) const {
  if (presence == 0 && frequency == 0) return;
  for (const auto& [token, count] : occurrence_)
    if (token >= 0 && static_cast<std::size_t>(token) < logits.size())
      logits[static_cast<std::size_t>(token)] -= static_cast<float>(presence + count * frequency);
}

void PenaltyState::add(TokenId token, double weight, double decay) {
  for (auto& [t, count] : occurrence_) count *= decay;
  occurrence_[token] += weight;
}

double PenaltyState::weight_for(std::string_view token_bytes) {
  constexpr std::string_view exempt = " \t0123456789";
  return exempt.find(token_bytes) != std::string_view::npos ? 0.0 : 1.0;
}

Sampler::Sampler(const SamplingParams& params, std::optional<std::uint64_t> seed) : params_(params) {
  params_.validate();
  if (seed) {
    seed_ = *seed;
  } else {
    std::random_device rd;
    seed_ = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }
  rng_.seed(seed_);
}

double Sampler::uniform() {
  return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
}

TokenId Sampler::sample(std::span<float> logits) {
  penalties_.apply(logits, params_.presence_penalty, params_.frequency_penalty);
  if (params_.temperature == 0) return argmax_logit(logits);
  filter_distribution(logits, params_, scratch_, dist_);
  const auto& d = dist_;
  const double u = uniform();
  double cum = 0;
  for (std::size_t j = 0; j < d.ids.size(); ++j) {
    cum += d.probs[j];
    if (u < cum) return d.ids[j];
  }
  // Rounding left u above the last partial sum: take the last token with a non-zero probability.
  for (std::size_t j = d.ids.size(); j-- > 0;)
    if (d.probs[j] > 0) return d.ids[j];
  return d.ids.back();
}

void Sampler::accept(TokenId token, std::string_view token_bytes) {
  if (params_.presence_penalty == 0 && params_.frequency_penalty == 0) return;
  penalties_.add(token, PenaltyState::weight_for(token_bytes), params_.penalty_decay);
}

}  // namespace rwkv

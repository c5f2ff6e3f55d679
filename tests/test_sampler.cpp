// Sampler: ChatRWKV's filter order reproduced on the golden RWKV-4 sampling cases (logits from the golden
// arrays, so no model is needed), parameter validation, ties, greedy, penalties and seeded determinism.
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <numeric>
#include <random>

#include <nlohmann/json.hpp>

#include "pipeline/sampler.h"
#include "rwkv/error.h"
#include "test_support.h"

namespace rwkv::test {
namespace {

using nlohmann::json;

json rwkv4_manifest() {
  std::ifstream in(golden("rwkv4/manifest.json"));
  return json::parse(in);
}

std::vector<float> logits_row(const NpyArray& a, std::size_t row) {
  const auto v = static_cast<std::size_t>(a.shape[1]);
  return {a.data.begin() + static_cast<std::ptrdiff_t>(row * v),
          a.data.begin() + static_cast<std::ptrdiff_t>((row + 1) * v)};
}

TEST(SamplerGolden, EveryManifestCaseMatchesTheFilteredDistribution) {
  const json m = rwkv4_manifest();
  const NpyArray logits = load_npy(golden("rwkv4/prompts/logits.npy"));
  const double tol = m["tolerances"]["fp32_compute"]["sampling_probs"]["max_abs"];
  ASSERT_GE(m["sampling"]["cases"].size(), 2u);
  for (const auto& c : m["sampling"]["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    SamplingParams p;
    p.temperature = c["temperature"];
    p.top_p = c["top_p"];
    p.top_k = c["top_k"];
    const auto row = logits_row(logits, c["logits_row"]);
    const auto got = filtered_probs(row, p);
    const NpyArray want = load_npy(golden("rwkv4/" + c["probs"].get<std::string>()));
    ASSERT_EQ(got.size(), want.data.size());
    EXPECT_TRUE(AllClose(got, want.data, tol));
    // The same set of non-zero ids, exactly.
    std::vector<int> got_ids, want_ids;
    for (std::size_t i = 0; i < got.size(); ++i) {
      if (got[i] != 0) got_ids.push_back(static_cast<int>(i));
      if (want.data[i] != 0) want_ids.push_back(static_cast<int>(i));
    }
    EXPECT_EQ(got_ids, want_ids);
    // The sparse form lists the manifest's kept ids with their probabilities.
    const auto d = filter_distribution(row, p);
    std::map<int, double> kept;
    for (std::size_t j = 0; j < d.ids.size(); ++j) kept[d.ids[j]] = d.probs[j];
    ASSERT_EQ(kept.size(), c["kept_ids_by_prob"].size());
    for (std::size_t j = 0; j < kept.size(); ++j) {
      const int id = c["kept_ids_by_prob"][j];
      ASSERT_TRUE(kept.count(id)) << id;
      EXPECT_NEAR(kept[id], c["kept_probs"][j].get<double>(), tol) << id;
    }
  }
}

TEST(SamplerGolden, NucleusDoesNotDependOnTemperature) {
  const json m = rwkv4_manifest();
  const NpyArray logits = load_npy(golden("rwkv4/prompts/logits.npy"));
  const auto& c = m["sampling"]["cases"][0];
  const auto row = logits_row(logits, c["logits_row"]);
  for (double t : {0.3, 1.0, 2.5}) {
    SamplingParams p;
    p.temperature = t;
    p.top_p = c["top_p"];
    EXPECT_EQ(filter_distribution(row, p).ids.size(), c["kept_ids_by_prob"].size()) << t;
  }
}

TEST(SamplerGolden, TemperatureZeroIsGreedyAtTheGoldenArgmax) {
  const json m = rwkv4_manifest();
  const NpyArray logits = load_npy(golden("rwkv4/prompts/logits.npy"));
  for (const auto& it : m["prompts"]["items"]) {
    auto row = logits_row(logits, it["row"]);
    EXPECT_EQ(argmax_logit(row), it["argmax"].get<int>());
    SamplingParams p;
    p.temperature = 0;
    Sampler s(p, 1);
    EXPECT_EQ(s.sample(row), it["argmax"].get<int>());
    const auto probs = filtered_probs(row, p);
    EXPECT_EQ(probs[it["argmax"].get<std::size_t>()], 1.0f);
  }
}

TEST(Sampler, TopPKeepsTiesWithTheCutoff) {
  // Probabilities 0.4, 0.2, 0.2, 0.2 (as logits): top_p 0.5 reaches its cutoff at the first 0.2, and the
  // other two 0.2s tie with it, so all four survive.
  std::vector<float> l = {std::log(0.4f), std::log(0.2f), std::log(0.2f), std::log(0.2f)};
  SamplingParams p;
  p.top_p = 0.5;
  EXPECT_EQ(filter_distribution(l, p).ids.size(), 4u);
  // A strictly smaller fourth one is dropped.
  l[3] = std::log(0.1f);
  EXPECT_EQ(filter_distribution(l, p).ids, (std::vector<TokenId>{0, 1, 2}));
  p.top_p = 0.4;  // the first token alone reaches 0.4
  EXPECT_EQ(filter_distribution(l, p).ids, (std::vector<TokenId>{0}));
}

TEST(Sampler, TopKKeepsTheLargestWithLowerIdsOnTies) {
  std::vector<float> l = {1, 3, 2, 3, 0};
  SamplingParams p;
  p.top_k = 2;
  EXPECT_EQ(filter_distribution(l, p).ids, (std::vector<TokenId>{1, 3}));
  p.top_k = 3;
  EXPECT_EQ(filter_distribution(l, p).ids, (std::vector<TokenId>{1, 2, 3}));
  l[2] = 3;  // three-way tie for two places: the lower ids win
  p.top_k = 2;
  EXPECT_EQ(filter_distribution(l, p).ids, (std::vector<TokenId>{1, 2}));
  p.top_k = 99;  // larger than the vocabulary: off
  EXPECT_EQ(filter_distribution(l, p).ids.size(), 5u);
}

TEST(Sampler, TemperatureIsAppliedToTheKeptProbabilities) {
  const std::vector<float> l = {2.0f, 1.0f, 0.0f, -30.0f};
  SamplingParams p;
  p.temperature = 0.5;
  const auto d = filter_distribution(l, p);
  // softmax(l / T) over all tokens, since nothing is cut.
  double z = 0;
  for (float x : l) z += std::exp(x / 0.5);
  for (std::size_t j = 0; j < d.ids.size(); ++j) EXPECT_NEAR(d.probs[j], std::exp(l[j] / 0.5) / z, 1e-12);
  // With a cut: p^(1/T) renormalised over the kept pair.
  p.top_k = 2;
  const auto k = filter_distribution(l, p);
  ASSERT_EQ(k.ids, (std::vector<TokenId>{0, 1}));
  EXPECT_NEAR(k.probs[0], 1.0 / (1.0 + std::exp(-2.0)), 1e-12);
}

TEST(Sampler, LargeVocabularyNucleusNeedsMoreThanOneSortStep) {
  // A nearly flat distribution over 5000 distinct logits: top_p 0.9 keeps thousands of tokens, far beyond
  // the first sorted prefix.
  std::vector<float> l(5000);
  for (std::size_t i = 0; i < l.size(); ++i) l[(i * 7919) % l.size()] = -1e-4f * static_cast<float>(i);
  SamplingParams p;
  p.top_p = 0.9;
  const auto d = filter_distribution(l, p);
  EXPECT_GT(d.ids.size(), 4000u);
  EXPECT_LT(d.ids.size(), 5000u);
  // Every dropped token is less probable than every kept one, and the kept mass just reaches top_p.
  std::vector<bool> kept(l.size());
  for (auto id : d.ids) kept[static_cast<std::size_t>(id)] = true;
  float min_kept = 1e9f, max_dropped = -1e9f;
  double z = 0, kept_mass = 0;
  for (std::size_t i = 0; i < l.size(); ++i) {
    z += std::exp(static_cast<double>(l[i]));
    if (kept[i]) min_kept = std::min(min_kept, l[i]);
    if (!kept[i]) max_dropped = std::max(max_dropped, l[i]);
  }
  for (std::size_t i = 0; i < l.size(); ++i)
    if (kept[i]) kept_mass += std::exp(static_cast<double>(l[i])) / z;
  EXPECT_GT(min_kept, max_dropped);
  EXPECT_GE(kept_mass, 0.9 - 1e-6);
  EXPECT_LT(kept_mass - std::exp(static_cast<double>(min_kept)) / z, 0.9);
}

// ChatRWKV's filter written the plain way: a full sort by probability (ties by id), the cumulative sum,
// the cutoff, top-k on the same order.
std::vector<TokenId> reference_kept(const std::vector<float>& l, double top_p, int top_k) {
  const float m = *std::max_element(l.begin(), l.end());
  std::vector<float> e(l.size());
  double sum = 0;
  for (std::size_t i = 0; i < l.size(); ++i) sum += e[i] = std::exp(l[i] - m);
  std::vector<TokenId> order(l.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](TokenId a, TokenId b) { return e[a] > e[b]; });
  std::size_t keep = l.size();
  if (top_p < 1) {
    double cum = 0;
    for (std::size_t j = 0; j < order.size(); ++j) {
      cum += e[order[j]];
      if (cum >= top_p * sum) {
        keep = j + 1;
        while (keep < order.size() && e[order[keep]] == e[order[j]]) ++keep;
        break;
      }
    }
  }
  if (top_k > 0 && static_cast<std::size_t>(top_k) < keep) keep = static_cast<std::size_t>(top_k);
  std::vector<TokenId> kept(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep));
  std::sort(kept.begin(), kept.end());
  return kept;
}

TEST(Sampler, MatchesAFullSortReferenceOnRandomLogits) {
  std::mt19937 rng(2024);
  int cases = 0;
  for (std::size_t v : {1u, 2u, 7u, 300u, 5000u, 65536u}) {
    for (float spread : {0.01f, 1.0f, 6.0f}) {
      for (bool ties : {false, true}) {
        std::normal_distribution<float> normal(0, spread);
        std::vector<float> l(v);
        for (auto& x : l) x = ties ? std::round(normal(rng) * 2) / 2 : normal(rng);
        for (double top_p : {0.07, 0.37, 0.61, 0.93, 0.999, 1.0}) {
          for (int top_k : {0, 1, 3, 50}) {
            SamplingParams p;
            p.top_p = top_p;
            p.top_k = top_k;
            p.temperature = 0.7;
            const auto d = filter_distribution(l, p);
            ASSERT_EQ(d.ids, reference_kept(l, top_p, top_k))
                << "V " << v << " spread " << spread << " ties " << ties << " top_p " << top_p << " top_k "
                << top_k;
            auto weight = [&](TokenId id) {
              return std::exp((static_cast<double>(l[static_cast<std::size_t>(id)]) - l[d.ids[0]]) / 0.7);
            };
            double z = 0;
            for (auto id : d.ids) z += weight(id);
            for (std::size_t j = 0; j < d.ids.size(); ++j)
              ASSERT_NEAR(d.probs[j], weight(d.ids[j]) / z, 1e-12);
            ++cases;
          }
        }
      }
    }
  }
  EXPECT_EQ(cases, 6 * 3 * 2 * 6 * 4);
}

TEST(Sampler, RejectsBadParametersNamingTheField) {
  auto message = [](SamplingParams p) {
    try {
      p.validate();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  SamplingParams p;
  EXPECT_EQ(message(p), "");
  p.temperature = -0.1;
  EXPECT_NE(message(p).find("temperature"), std::string::npos);
  p = {};
  p.temperature = std::numeric_limits<double>::quiet_NaN();
  EXPECT_NE(message(p).find("temperature"), std::string::npos);
  p = {};
  p.top_p = 0;
  EXPECT_NE(message(p).find("top_p"), std::string::npos);
  p.top_p = 1.5;
  EXPECT_NE(message(p).find("top_p"), std::string::npos);
  p = {};
  p.top_k = -1;
  EXPECT_NE(message(p).find("top_k"), std::string::npos);
  p = {};
  p.frequency_penalty = std::numeric_limits<double>::infinity();
  EXPECT_NE(message(p).find("frequency_penalty"), std::string::npos);
  p = {};
  p.penalty_decay = 1.5;
  EXPECT_NE(message(p).find("penalty_decay"), std::string::npos);
  p = {};
  p.top_k = -3;
  EXPECT_THROW(Sampler(p, 1), Error);
}

TEST(Sampler, RejectsNaNAndAllMinusInfLogits) {
  SamplingParams p;
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> nan_logits = {0.0f, std::numeric_limits<float>::quiet_NaN()};
  EXPECT_THROW(filter_distribution(nan_logits, p), Error);
  std::vector<float> dead = {-inf, -inf};
  EXPECT_THROW(filter_distribution(dead, p), Error);
  EXPECT_THROW(argmax_logit(dead), Error);
  EXPECT_THROW(filter_distribution(std::vector<float>{}, p), Error);
  // -inf entries next to finite ones are simply never drawn.
  std::vector<float> banned = {-inf, 0.0f, -inf};
  Sampler s(p, 7);
  for (int i = 0; i < 20; ++i) {
    auto copy = banned;
    EXPECT_EQ(s.sample(copy), 1);
  }
}

TEST(Sampler, SameSeedSameDrawsAndTheFrequenciesFollowTheDistribution) {
  const std::vector<float> l = {0.0f, std::log(3.0f), std::log(6.0f)};  // p = 0.1, 0.3, 0.6
  SamplingParams p;
  Sampler a(p, 42), b(p, 42), c(p, 43);
  std::vector<int> counts(3);
  bool differs = false;
  for (int i = 0; i < 20000; ++i) {
    auto la = l, lb = l, lc = l;
    const TokenId x = a.sample(la);
    EXPECT_EQ(x, b.sample(lb));
    differs |= x != c.sample(lc);
    ++counts[static_cast<std::size_t>(x)];
  }
  EXPECT_TRUE(differs);
  EXPECT_EQ(a.seed(), 42u);
  // 20000 draws: the standard deviation of each frequency is below 0.0035.
  EXPECT_NEAR(counts[0] / 20000.0, 0.1, 0.015);
  EXPECT_NEAR(counts[1] / 20000.0, 0.3, 0.015);
  EXPECT_NEAR(counts[2] / 20000.0, 0.6, 0.015);
}

TEST(Sampler, PenaltiesFollowChatRwkv) {
  // Weights: 0 for text inside " \t0123456789" (substring test), else 1.
  EXPECT_EQ(PenaltyState::weight_for(" "), 0.0);
  EXPECT_EQ(PenaltyState::weight_for("\t"), 0.0);
  EXPECT_EQ(PenaltyState::weight_for("789"), 0.0);
  EXPECT_EQ(PenaltyState::weight_for("12"), 0.0);
  EXPECT_EQ(PenaltyState::weight_for("13"), 1.0);
  EXPECT_EQ(PenaltyState::weight_for(" the"), 1.0);
  EXPECT_EQ(PenaltyState::weight_for("  "), 1.0);  // two spaces are not a substring

  PenaltyState s;
  s.add(5, 1.0, 0.5);
  s.add(5, 1.0, 0.5);  // 1 * 0.5 + 1 = 1.5
  s.add(2, 0.0, 0.5);  // 5 decays to 0.75; 2 exists with weight 0
  std::vector<float> l(6, 10.0f);
  s.apply(l, 0.25, 2.0);
  EXPECT_FLOAT_EQ(l[5], 10.0f - (0.25f + 0.75f * 2.0f));
  EXPECT_FLOAT_EQ(l[2], 10.0f - 0.25f);  // presence still applies to a weight-0 entry
  EXPECT_FLOAT_EQ(l[0], 10.0f);
}

TEST(Sampler, PenaltiesChangeTheGreedyChoice) {
  SamplingParams p;
  p.temperature = 0;
  p.presence_penalty = 1.0;
  p.frequency_penalty = 0.5;
  p.penalty_decay = 1.0;
  Sampler s(p, 1);
  const std::vector<float> base = {0.0f, 2.0f, 1.2f};
  auto l = base;
  EXPECT_EQ(s.sample(l), 1);
  s.accept(1, "x");  // token 1 now costs 1.5
  l = base;
  EXPECT_EQ(s.sample(l), 2);
  EXPECT_FLOAT_EQ(l[1], 0.5f);  // the penalised logits are visible to the caller
  s.accept(2, "y");
  l = base;
  EXPECT_EQ(s.sample(l), 1);  // 2 - 1.5 = 0.5 beats 0 and 1.2 - 1.5 = -0.3
  s.accept(1, "x");           // token 1: 1 + 1 = 2 occurrences, costs 2
  l = base;
  EXPECT_EQ(s.sample(l), 0);  // 0 beats 2 - 2 = 0 on the lower id, and -0.3
}

}  // namespace
}  // namespace rwkv::test

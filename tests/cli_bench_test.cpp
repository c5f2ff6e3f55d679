// `rwkv bench` runs end to end on a tiny synthetic model and reports every figure the README table uses
// (no timing is asserted: benchmarks are not timed tests).
#include <algorithm>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace rwkv::test {
namespace {

// A machine reading taken just before and just after a measurement: `key`_before and `key`_after, both
// positive, and `key` the higher of the two.
void expect_higher_reading(const nlohmann::json& j, const std::string& key) {
  const double before = j.at(key + "_before").get<double>(), after = j.at(key + "_after").get<double>();
  ASSERT_GT(before, 0);
  ASSERT_GT(after, 0);
  EXPECT_EQ(j.at(key).get<double>(), std::max(before, after));
}

// A mode's decode bound is its weight bytes over the higher of the bandwidths read just before and just
// after its decode; the bound at the run's closing reading is reported beside it.
void expect_decode_bounds(const nlohmann::json& dec, double run_end_gbs) {
  ASSERT_NO_FATAL_FAILURE(expect_higher_reading(dec, "read_bandwidth_gbs"));
  const double own = dec.at("read_bandwidth_gbs").get<double>(), ms = dec.at("ms_per_token").get<double>();
  const double bytes = dec.at("weight_bytes_per_token").get<double>();
  ASSERT_GT(bytes, 0);
  EXPECT_NEAR(dec.at("bandwidth_bound_ms").get<double>(), 1e3 * bytes / (own * 1e9), 1e-9);
  EXPECT_NEAR(dec.at("times_bound").get<double>(), ms / dec.at("bandwidth_bound_ms").get<double>(), 1e-9);
  EXPECT_NEAR(dec.at("bandwidth_bound_ms_at_run_end").get<double>(), 1e3 * bytes / (run_end_gbs * 1e9), 1e-9);
  EXPECT_NEAR(dec.at("times_bound_at_run_end").get<double>(),
              ms / dec.at("bandwidth_bound_ms_at_run_end").get<double>(), 1e-9);
}

// A mode's prefill is measured against the higher of the FMA-peak readings taken just before and just
// after it; the share of the run's closing reading is reported beside it.
void expect_prefill_peak(const nlohmann::json& pre, double run_end_gflops) {
  ASSERT_NO_FATAL_FAILURE(expect_higher_reading(pre, "fma_peak_gflops"));
  const double own = pre.at("fma_peak_gflops").get<double>(), gflops = pre.at("gflops").get<double>();
  ASSERT_GT(gflops, 0);
  EXPECT_NEAR(pre.at("pct_of_fp32_peak").get<double>(), 100 * gflops / own, 1e-9);
  EXPECT_NEAR(pre.at("pct_of_fp32_peak_at_run_end").get<double>(), 100 * gflops / run_end_gflops, 1e-9);
}

TEST(CliBench, ReportsEveryModeWithItsOwnMemoryAndAccuracy) {
  const auto r = run_cli(
      "bench --layers 2 --embd 64 --docs 2 --tokens 8 --reps 3 --query-tokens 4 --decode-tokens 2 "
      "--all-precisions --length-sweep 16,32 --threads 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_GT(j.at("machine").at("fma_peak_gflops_all_threads").get<double>(), 0);
  EXPECT_GT(j.at("machine").at("read_bandwidth_gbs").get<double>(), 0);
  for (const char* mode : {"fp32", "bf16", "int8", "w8a8"}) {
    SCOPED_TRACE(mode);
    const auto& m = j.at("modes").at(mode);
    EXPECT_GT(m.at("prefill").at("tokens_per_s").get<double>(), 0);
    EXPECT_GT(m.at("query_latency_ms").get<double>(), 0);
    expect_decode_bounds(m.at("decode"), j.at("machine").at("read_bandwidth_gbs").get<double>());
    expect_prefill_peak(m.at("prefill"), j.at("machine").at("fma_peak_gflops_all_threads").get<double>());
    // Each mode ran in its own process: its peak covers at least its weights and is not another mode's.
    const double weights = m.at("weights_mb").get<double>();
    EXPECT_GT(weights, 0);
    EXPECT_GE(m.at("peak_rss_mb").get<double>(), m.at("rss_before_load_mb").get<double>());
    ASSERT_EQ(m.at("length_sweep").size(), 2u);
    EXPECT_EQ(m.at("length_sweep")[1].at("tokens").get<int>(), 32);
    for (const auto& point : m.at("length_sweep")) {
      EXPECT_GT(point.at("peak_rss_mb").get<double>(), point.at("rss_before_load_mb").get<double>());
      // One reading per round (--reps), each in its own process; the rate reported is their median.
      auto rounds = point.at("tokens_per_s_rounds").get<std::vector<double>>();
      ASSERT_EQ(rounds.size(), 3u);
      for (double rate : rounds) EXPECT_GT(rate, 0);
      std::sort(rounds.begin(), rounds.end());
      EXPECT_EQ(point.at("tokens_per_s").get<double>(), rounds[1]);
    }
    if (std::string(mode) != "fp32") {
      EXPECT_GT(m.at("cosine_vs_fp32").at("min").get<double>(), 0.99);
      EXPECT_LE(m.at("cosine_vs_fp32").at("min").get<double>(), 1.0 + 1e-6);
    }
  }
  EXPECT_LT(j.at("modes").at("bf16").at("weights_mb").get<double>(),
            j.at("modes").at("fp32").at("weights_mb").get<double>());
}

// The language-model bench (both architectures): every mode in its own process, with its own memory
// figures and its logit accuracy against fp32.
class CliBenchLm : public ::testing::TestWithParam<const char*> {};

TEST_P(CliBenchLm, ReportsEveryModeWithItsOwnMemoryAndAccuracy) {
  const auto r = run_cli(std::string("bench --synth ") + GetParam() +
                         " --layers 2 --embd 64 --vocab 300 --docs 2 --tokens 8 --reps 1 --decode-tokens 2 "
                         "--all-precisions --threads 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("model").at("vocab").get<int>(), 300);
  EXPECT_GT(j.at("model").at("flops_per_token").at("blocks").get<double>(), 0);
  for (const char* mode : {"fp32", "bf16", "int8", "w8a8"}) {
    SCOPED_TRACE(mode);
    const auto& m = j.at("modes").at(mode);
    EXPECT_GT(m.at("prefill").at("tokens_per_s").get<double>(), 0);
    EXPECT_GT(m.at("prompt").at("tokens_per_s").get<double>(), 0);
    expect_decode_bounds(m.at("decode"), j.at("machine").at("read_bandwidth_gbs").get<double>());
    expect_prefill_peak(m.at("prefill"), j.at("machine").at("fma_peak_gflops_all_threads").get<double>());
    EXPECT_GE(m.at("peak_rss_mb").get<double>(), m.at("rss_before_load_mb").get<double>());
    if (std::string(mode) == "fp32") {
      EXPECT_FALSE(m.contains("vs_fp32"));
    } else {
      const auto& acc = m.at("vs_fp32");
      EXPECT_GE(acc.at("max_abs_logit_error").get<double>(), 0);
      EXPECT_LT(acc.at("max_abs_logit_error").get<double>(), 1.0);
      EXPECT_GE(acc.at("argmax_agreement").get<double>(), 0);
      EXPECT_LE(acc.at("argmax_agreement").get<double>(), 1);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Kinds, CliBenchLm, ::testing::Values("x040-lm", "x070-lm"),
                         [](const ::testing::TestParamInfo<const char*>& p) {
                           std::string name = p.param;  // x040-lm -> x040lm (test names are identifiers)
                           std::erase(name, '-');
                           return name;
                         });

}  // namespace
}  // namespace rwkv::test

// Preprocessing policies (simple, multi-eos) and rerank templates, as pure functions.
#include <gtest/gtest.h>

#include "pipeline/preprocess.h"
#include "rwkv/error.h"

namespace rwkv {
namespace {

std::vector<TokenId> iota(int n, int start = 1) {
  std::vector<TokenId> v(n);
  for (int i = 0; i < n; ++i) v[i] = start + i;
  return v;
}
long count_eos(const std::vector<TokenId>& v) {
  return std::count(v.begin(), v.end(), kEos);
}

TEST(Preprocess, SimpleAppendsOneEos) {
  EXPECT_EQ(policy_simple({5, 6}), (std::vector<TokenId>{5, 6, kEos}));
  EXPECT_EQ(policy_simple({}), (std::vector<TokenId>{kEos}));
}

TEST(Preprocess, MultiEosShortTextIsRepeated) {
  const auto out = policy_multi_eos({7, 8, 9});
  EXPECT_EQ(out, (std::vector<TokenId>{7, 8, 9, kEos, 7, 8, 9, kEos, 7, 8, 9, kEos, 7, 8, 9, kEos}));
  EXPECT_EQ(policy_multi_eos({}), (std::vector<TokenId>{kEos, kEos, kEos, kEos}));
}

TEST(Preprocess, MultiEosNormalTextIsSliced) {
  const auto ids = iota(1001);  // 512 <= n <= 2044: four slices of ceil(1001/4) = 251
  const auto out = policy_multi_eos(ids);
  ASSERT_EQ(out.size(), 1001u + 4);
  EXPECT_EQ(count_eos(out), 4);
  EXPECT_EQ(out[251], kEos);
  EXPECT_EQ(out[252], 252);  // second slice starts at id index 251 (value 252)
  EXPECT_EQ(out[2 * 252 - 1], kEos);
  EXPECT_EQ(out.back(), kEos);
  // Small parameters: n = 5, eos_chunk 2, ctx 8 -> n_eos 4, c = 2: [1 2] E [3 4] E [5] E [] E
  EXPECT_EQ(policy_multi_eos(iota(5), {8, 2}), (std::vector<TokenId>{1, 2, kEos, 3, 4, kEos, 5, kEos, kEos}));
}

TEST(Preprocess, MultiEosLongTextIsSplitThenSliced) {
  // ctx 8, chunk 2 -> n_eos 4, max_allowed 4. n = 10 -> s = ceil(10/8) = 2 parts of p = 5.
  const auto out = policy_multi_eos(iota(10), {8, 2});
  EXPECT_EQ(out, (std::vector<TokenId>{1, 2, kEos, 3, 4, kEos, 5, kEos, kEos, 6, 7, kEos, 8, 9, kEos, 10,
                                       kEos, kEos}));
  // Truncation to 8 x ctx_len ids.
  const auto big = policy_multi_eos(iota(100), {8, 2});
  EXPECT_EQ(big.size() - count_eos(big), 64u);
  EXPECT_THROW(policy_multi_eos(iota(3), {10, 4}), Error);
}

TEST(Preprocess, MultiEosOptionalPadTo16) {
  const auto out = policy_multi_eos({7, 8, 9}, {2048, 512, true});  // 16 tokens: already a multiple
  EXPECT_EQ(out.size(), 16u);
  EXPECT_EQ(out.front(), 7);
  const auto odd = policy_multi_eos(iota(5), {8, 2, true});  // 9 tokens -> 7 pads of id 261 first
  ASSERT_EQ(odd.size(), 16u);
  EXPECT_EQ(std::count(odd.begin(), odd.begin() + 7, kEvalPadId), 7);
  EXPECT_EQ(std::vector<TokenId>(odd.begin() + 7, odd.end()), policy_multi_eos(iota(5), {8, 2}));
}

TEST(Preprocess, RerankTemplatesConcatenate) {
  RerankTemplate t;
  EXPECT_EQ(t.online_text("doc", "q?"),
            "Instruct: Given a query, retrieve documents that answer the query\nDocument: doc\nQuery: q?");
  EXPECT_EQ(t.document_text("doc") + t.query_text("q?"), t.online_text("doc", "q?"));
  t.document_part = "D={document};{document}|";
  EXPECT_EQ(t.document_text("x"), "D=x;x|");
  EXPECT_EQ(parse_policy("multi-eos"), EmbedPolicy::MultiEos);
  EXPECT_THROW(parse_policy("pad"), Error);
}

}  // namespace
}  // namespace rwkv

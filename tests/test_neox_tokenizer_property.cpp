// Property tests of the NeoX tokenizer on the real 20B_tokenizer.json: random UTF-8 text round-trips to
// its NFC form, encoding is idempotent through decode, BPE equals a naive quadratic reference on random
// words, and the GPT-2 split reproduces known splits and always covers its input.
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include <utf8proc.h>
#include <nlohmann/json.hpp>

#include "test_support.h"
#include "tokenizer/neox_byte_level.h"
#include "tokenizer/neox_pretokenizer.h"
#include "tokenizer/neox_tokenizer.h"

namespace {

using rwkv::NeoxTokenizer;
using rwkv::TokenId;
using Ids = std::vector<TokenId>;

const NeoxTokenizer& tok() {
  static const auto t = NeoxTokenizer::load(rwkv::test::shared_dir() / "vocab" / "20B_tokenizer.json");
  return *t;
}

std::string nfc(const std::string& s) {
  utf8proc_uint8_t* out = nullptr;
  const auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                              static_cast<utf8proc_ssize_t>(s.size()), &out,
                              static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  EXPECT_GE(n, 0);
  std::string r(reinterpret_cast<const char*>(out), n < 0 ? 0 : static_cast<std::size_t>(n));
  std::free(out);
  return r;
}

// Random text from pieces that exercise every rule: contractions, whitespace kinds, combining marks and
// composable sequences, letters/numbers of several scripts, emoji with ZWJ, added tokens and near misses.
std::string random_text(std::mt19937& rng) {
  static const std::vector<std::string> pool{"a",
                                             "Z",
                                             "hello",
                                             " world",
                                             "x",
                                             "7",
                                             "2023",
                                             " ",
                                             "  ",
                                             "\t",
                                             "\n",
                                             "\r\n",
                                             "\n\n",
                                             "'",
                                             "'s",
                                             "'ll",
                                             "'RE",
                                             "!",
                                             "?!",
                                             ".",
                                             ",",
                                             "(",
                                             ")",
                                             "$",
                                             "-",
                                             "_",
                                             "\xc3\xa9",
                                             "e\xcc\x81",
                                             "\xcc\x81",
                                             "\xcc\x88",
                                             "\xcc\xa3",
                                             "\xe1\x84\x80\xe1\x85\xa1",
                                             "\xea\xb0\x80",
                                             "\xe6\x97\xa5\xe6\x9c\xac",
                                             "\xf0\x9f\x8e\x89",
                                             "\xe2\x80\x8d",
                                             "\xc2\xa0",
                                             "\xe3\x80\x80",
                                             "\xe2\x80\xa8",
                                             "\xc2\x85",
                                             "<|endoftext|>",
                                             "<|padding|>",
                                             "<|endo",
                                             "\xe2\x84\xa6",
                                             "\xd9\xa1\xd9\xa2",
                                             "\xe2\x85\xab",
                                             "\xc2\xbd",
                                             "\xef\xac\x81",
                                             "\xd0\x96"};
  std::string s;
  const int n = static_cast<int>(rng() % 24);
  for (int i = 0; i < n; ++i) {
    if (rng() % 12 == 0) {
      s += std::string(1 + rng() % 30, ' ');
    } else {
      s += pool[rng() % pool.size()];
    }
  }
  return s;
}

TEST(NeoxProperty, RoundTripIsNfc) {
  std::mt19937 rng(20240601);
  for (int i = 0; i < 3000; ++i) {
    const std::string s = random_text(rng);
    SCOPED_TRACE(s);
    const Ids ids = tok().encode(s);
    const std::string decoded = tok().decode_bytes(ids);
    ASSERT_EQ(decoded, nfc(s));
    ASSERT_EQ(tok().encode(decoded), ids);
  }
}

TEST(NeoxProperty, ConcurrentEncodeAgrees) {
  std::vector<std::string> texts;
  std::mt19937 rng(5);
  for (int i = 0; i < 400; ++i) texts.push_back(random_text(rng));
  std::vector<Ids> want;
  for (const auto& t : texts) want.push_back(tok().encode(t));
  std::vector<int> mismatches(2, 0);
  std::vector<std::thread> threads;
  for (int k = 0; k < 2; ++k) {
    threads.emplace_back([&, k] {
      for (std::size_t i = 0; i < texts.size(); ++i) {
        const std::size_t j = k == 0 ? i : texts.size() - 1 - i;
        if (tok().encode(texts[j]) != want[j]) ++mismatches[k];
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches[0] + mismatches[1], 0);
}

// Naive BPE from the file's own merges: repeatedly merge the leftmost adjacent pair of lowest rank.
class NaiveBpe {
 public:
  NaiveBpe() {
    std::ifstream in(rwkv::test::shared_dir() / "vocab" / "20B_tokenizer.json");
    const auto j = nlohmann::json::parse(in);
    for (const auto& [k, v] : j["model"]["vocab"].items()) vocab_[k] = v.get<TokenId>();
    int rank = 0;
    for (const auto& m : j["model"]["merges"]) {
      const std::string s = m.get<std::string>();
      const auto sp = s.find(' ');
      ranks_.emplace(std::make_pair(s.substr(0, sp), s.substr(sp + 1)), rank++);
    }
  }
  Ids encode(const std::string& bytes) const {
    std::vector<std::string> sym;
    for (char c : bytes) sym.push_back(rwkv::neox::byte_level_encode(std::string(1, c)));
    for (;;) {
      int best = -1;
      std::size_t at = 0;
      for (std::size_t i = 0; i + 1 < sym.size(); ++i) {
        const auto it = ranks_.find({sym[i], sym[i + 1]});
        if (it != ranks_.end() && (best < 0 || it->second < best)) best = it->second, at = i;
      }
      if (best < 0) break;
      sym[at] += sym[at + 1];
      sym.erase(sym.begin() + static_cast<std::ptrdiff_t>(at) + 1);
    }
    Ids ids;
    for (const auto& s : sym) ids.push_back(vocab_.at(s));
    return ids;
  }

 private:
  std::map<std::string, TokenId> vocab_;
  std::map<std::pair<std::string, std::string>, int> ranks_;
};

TEST(NeoxProperty, BpeEqualsNaiveReference) {
  const NaiveBpe naive;
  std::mt19937 rng(77);
  const std::string letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZeeeaaoo";
  const std::string digits = "0123456789";
  const std::string punct = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~";
  for (int i = 0; i < 1500; ++i) {
    const std::string& alphabet = i % 5 == 3 ? digits : i % 5 == 4 ? punct : letters;
    // Mostly short words (cached), some long ones (beyond the cache's word limit).
    const std::size_t len = 1 + (i % 10 == 0 ? rng() % 300 : rng() % 16);
    std::string w = rng() % 2 ? " " : "";
    for (std::size_t k = 0; k < len; ++k) w.push_back(alphabet[rng() % alphabet.size()]);
    std::vector<std::string_view> pieces;
    rwkv::neox::split_gpt2(w, pieces);
    ASSERT_EQ(pieces.size(), 1u) << w;
    SCOPED_TRACE(w);
    const Ids want = naive.encode(w);
    ASSERT_EQ(tok().encode(w), want);
    ASSERT_EQ(tok().encode(w), want);  // again, from the cache
  }
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string_view> pieces;
  rwkv::neox::split_gpt2(s, pieces);
  return {pieces.begin(), pieces.end()};
}

TEST(NeoxProperty, Gpt2SplitKnownCases) {
  using V = std::vector<std::string>;
  EXPECT_EQ(split("Hello world"), (V{"Hello", " world"}));
  EXPECT_EQ(split("I'm don't THEY'LL"), (V{"I", "'m", " don", "'t", " THEY", "'", "LL"}));
  EXPECT_EQ(split("  a"), (V{" ", " a"}));
  EXPECT_EQ(split("\n\nA"), (V{"\n", "\n", "A"}));
  EXPECT_EQ(split("x  "), (V{"x", "  "}));
  EXPECT_EQ(split(" 123abc"), (V{" 123", "abc"}));
  EXPECT_EQ(split("!!!? !'s"), (V{"!!!?", " !'", "s"}));
  EXPECT_EQ(split(" \xc2\xa0x"), (V{" ", "\xc2\xa0", "x"}));
  EXPECT_EQ(split("a\t\tb"), (V{"a", "\t", "\t", "b"}));  // only a space (U+0020) joins the next word
  EXPECT_EQ(split("\xe6\x97\xa5\xe6\x9c\xac 2\xc2\xbd"), (V{"\xe6\x97\xa5\xe6\x9c\xac", " 2\xc2\xbd"}));
  EXPECT_EQ(split("'"), (V{"'"}));
  EXPECT_EQ(split(" '"), (V{" '"}));
  EXPECT_EQ(split("e\xcc\x81"), (V{"e", "\xcc\x81"}));  // a combining mark is neither \p{L} nor \p{N}
  EXPECT_TRUE(split("").empty());
}

TEST(NeoxProperty, Gpt2SplitCoversInput) {
  std::mt19937 rng(3);
  for (int i = 0; i < 2000; ++i) {
    const std::string s = random_text(rng);
    std::string joined;
    for (const auto& p : split(s)) {
      ASSERT_FALSE(p.empty());
      joined += p;
    }
    ASSERT_EQ(joined, s);
  }
}

}  // namespace

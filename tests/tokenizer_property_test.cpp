// Property tests for the World tokenizer with a seeded RNG: round trip on arbitrary bytes, stability
// when splitting at produced token boundaries, and agreement with a plain hash-map greedy reference on
// about 1 MB of mixed input. Also the UTF-8 helpers.
#include <algorithm>
#include <array>
#include <memory>
#include <random>
#include <unordered_map>
#include <vector>

#include "rwkv/error.h"
#include "test_support.h"
#include "tokenizer/world_tokenizer.h"

namespace {

using rwkv::TokenId;
using rwkv::WorldTokenizer;

// The obvious greedy longest match: at each position try every token length, longest first.
class ReferenceGreedy {
 public:
  explicit ReferenceGreedy(const WorldTokenizer& tok) {
    for (TokenId id = 1; static_cast<std::size_t>(id) <= tok.vocab_size(); ++id) {
      const std::string_view t = tok.token_bytes(id);
      map_.emplace(std::string(t), id);
      lengths_[static_cast<unsigned char>(t[0])].push_back(t.size());
    }
    for (auto& l : lengths_) {
      std::sort(l.begin(), l.end(), std::greater<>());
      l.erase(std::unique(l.begin(), l.end()), l.end());
    }
  }
  std::vector<TokenId> encode(std::string_view s) const {
    std::vector<TokenId> out;
    std::size_t p = 0;
    while (p < s.size()) {
      for (std::size_t len : lengths_[static_cast<unsigned char>(s[p])]) {
        if (len > s.size() - p) continue;
        auto it = map_.find(std::string(s.substr(p, len)));
        if (it != map_.end()) {
          out.push_back(it->second);
          p += len;
          break;
        }
      }
    }
    return out;
  }

 private:
  std::unordered_map<std::string, TokenId> map_;
  std::array<std::vector<std::size_t>, 256> lengths_;
};

class TokenizerProperty : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tok_ = std::make_unique<WorldTokenizer>(WorldTokenizer::load(rwkv::test::vocab_path()));
  }
  static void TearDownTestSuite() { tok_.reset(); }
  static std::unique_ptr<WorldTokenizer> tok_;
};
std::unique_ptr<WorldTokenizer> TokenizerProperty::tok_;

// Random inputs of several kinds; `kind` picks the generator.
std::string random_input(std::mt19937_64& rng, const WorldTokenizer& tok, int kind, std::size_t n) {
  std::string s;
  auto pick = [&](std::size_t k) { return static_cast<std::size_t>(rng() % k); };
  switch (kind) {
    case 0:  // arbitrary bytes, NULs included
      while (s.size() < n) s.push_back(static_cast<char>(rng()));
      break;
    case 1:  // valid UTF-8 from random code points, biased to ASCII and CJK
      while (s.size() < n) {
        static constexpr std::array<std::uint32_t, 6> lo{0x20, 0x00, 0x80, 0x4E00, 0x3040, 0x1F300};
        static constexpr std::array<std::uint32_t, 6> span{0x5F, 0x20, 0x700, 0x5000, 0x100, 0x300};
        const std::size_t r = pick(6);
        const std::uint32_t cp = lo[r] + static_cast<std::uint32_t>(pick(span[r]));
        if (cp < 0x80) {
          s.push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
          s += {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
        } else if (cp < 0x10000) {
          s += {static_cast<char>(0xE0 | (cp >> 12)), static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
                static_cast<char>(0x80 | (cp & 0x3F))};
        } else {
          s += {static_cast<char>(0xF0 | (cp >> 18)), static_cast<char>(0x80 | ((cp >> 12) & 0x3F)),
                static_cast<char>(0x80 | ((cp >> 6) & 0x3F)), static_cast<char>(0x80 | (cp & 0x3F))};
        }
      }
      break;
    case 2:  // long runs of one byte
      while (s.size() < n) s.append(1 + pick(300), "  \n\0a#-\xe4\xff"[pick(9)]);
      break;
    case 3:  // concatenated vocab pieces, sometimes cut or glued to a random byte
      while (s.size() < n) {
        s += tok.token_bytes(static_cast<TokenId>(1 + pick(tok.vocab_size())));
        if (pick(8) == 0) s.push_back(static_cast<char>(rng()));
        if (pick(8) == 0 && !s.empty()) s.pop_back();
      }
      break;
    default:  // a mix of all of the above
      while (s.size() < n) s += random_input(rng, tok, static_cast<int>(pick(4)), 1 + pick(64));
      break;
  }
  return s;
}

TEST_F(TokenizerProperty, RoundTripAndSplitStability) {
  std::mt19937_64 rng(20230424);
  for (int iter = 0; iter < 500; ++iter) {
    const int kind = iter % 5;
    const std::string x = random_input(rng, *tok_, kind, rng() % 400);
    const std::vector<TokenId> ids = tok_->encode(x);
    ASSERT_EQ(tok_->decode_bytes(ids), x) << "iter " << iter;
    // Split at up to 6 boundaries the encoder produced: both halves must encode to the same ids.
    std::vector<std::size_t> bounds;
    std::size_t b = 0;
    for (TokenId id : ids) bounds.push_back(b += tok_->token_bytes(id).size());
    for (int k = 0; k < 6 && !bounds.empty(); ++k) {
      const std::size_t cut = bounds[rng() % bounds.size()];
      std::vector<TokenId> joined = tok_->encode(std::string_view(x).substr(0, cut));
      tok_->encode(std::string_view(x).substr(cut), joined);
      ASSERT_EQ(joined, ids) << "iter " << iter << " cut " << cut;
    }
  }
}

TEST_F(TokenizerProperty, MatchesReferenceOnOneMegabyte) {
  const ReferenceGreedy ref(*tok_);
  std::mt19937_64 rng(7);
  std::string text;
  while (text.size() < (1u << 20)) text += random_input(rng, *tok_, static_cast<int>(rng() % 5), 4096);
  const auto fast = tok_->encode(text);
  const auto slow = ref.encode(text);
  ASSERT_EQ(fast.size(), slow.size());
  const auto mismatch = std::mismatch(fast.begin(), fast.end(), slow.begin());
  EXPECT_TRUE(mismatch.first == fast.end())
      << "first difference at token " << (mismatch.first - fast.begin());
  EXPECT_EQ(tok_->decode_bytes(fast), text);
}

TEST_F(TokenizerProperty, EdgeInputs) {
  const ReferenceGreedy ref(*tok_);
  for (const std::string& x :
       {std::string(), std::string(1, '\0'), std::string(1000, '\0'), std::string(1000, ' '),
        std::string(129, ' '), std::string(127, ' ') + "x", std::string(5000, '\xff'),
        std::string("\xf0\x9f\xa6"), std::string("<|endoftext|>")}) {
    const auto ids = tok_->encode(x);
    EXPECT_EQ(ids, ref.encode(x));
    EXPECT_EQ(tok_->decode_bytes(ids), x);
  }
  EXPECT_EQ(tok_->encode(std::string(256, ' ')), (std::vector<TokenId>{65529, 65529}));
}

TEST(TokenizerUtf8, ValidationAndReplacement) {
  using rwkv::to_valid_utf8;
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(rwkv::find_invalid_utf8("plain ascii"), std::string_view::npos);
  EXPECT_EQ(rwkv::find_invalid_utf8("\xe4\xb8\xad\xf0\x9f\xa6\x86"), std::string_view::npos);
  EXPECT_EQ(rwkv::find_invalid_utf8("0123456789abcdef\xff"), 16u);
  try {
    to_valid_utf8("ab\xe4\xb8", false);
    ADD_FAILURE();
  } catch (const rwkv::Error& e) {
    EXPECT_NE(std::string(e.what()).find("offset 2"), std::string::npos) << e.what();
  }
  // Same results as Python's bytes.decode("utf-8", errors="replace").
  EXPECT_EQ(to_valid_utf8("\xf0\x9f", true), fffd);
  EXPECT_EQ(to_valid_utf8("a\xffz", true), "a" + fffd + "z");
  EXPECT_EQ(to_valid_utf8("\xed\xa0\x80", true), fffd + fffd + fffd);  // surrogate
  EXPECT_EQ(to_valid_utf8("\xc0\xaf", true), fffd + fffd);             // overlong
  EXPECT_EQ(to_valid_utf8("\xe0\x80", true), fffd + fffd);
  EXPECT_EQ(to_valid_utf8("\xf4\x90\x80\x80", true), fffd + fffd + fffd + fffd);  // above U+10FFFF
  EXPECT_EQ(to_valid_utf8("\xe4\xb8x\xe4\xb8\xad", true), fffd + "x\xe4\xb8\xad");
  EXPECT_EQ(to_valid_utf8(std::string_view("\0\x7f", 2), false), std::string("\0\x7f", 2));
}

TEST(TokenizerUtf8, CompletePrefix) {
  EXPECT_EQ(rwkv::utf8_complete_prefix(""), 0u);
  EXPECT_EQ(rwkv::utf8_complete_prefix("abc"), 3u);
  EXPECT_EQ(rwkv::utf8_complete_prefix("ab\xf0\x9f"), 2u);
  EXPECT_EQ(rwkv::utf8_complete_prefix("ab\xf0\x9f\xa6"), 2u);
  EXPECT_EQ(rwkv::utf8_complete_prefix("ab\xf0\x9f\xa6\x86"), 6u);
  EXPECT_EQ(rwkv::utf8_complete_prefix("ab\xff"), 3u);      // never valid: not held back
  EXPECT_EQ(rwkv::utf8_complete_prefix("ab\xe0\x80"), 4u);  // already ill-formed
}

}  // namespace

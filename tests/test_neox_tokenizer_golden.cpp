// NeoxTokenizer on the real 20B_tokenizer.json: every gpt_neox_20b case of
// shared/vocab/tokenizer_test_vectors.json, the RWKV-4 golden prompts (shared/golden/rwkv4/manifest.json),
// decoding of the golden greedy continuations, and the added-token rules on the space-run tokens.
#include <fstream>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "rwkv/error.h"
#include "test_support.h"
#include "tokenizer/neox_tokenizer.h"
#include "tokenizer/world_utf8.h"

namespace {

using rwkv::NeoxTokenizer;
using rwkv::TokenId;

nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

std::filesystem::path neox_file() {
  return rwkv::test::shared_dir() / "vocab" / "20B_tokenizer.json";
}

class NeoxGolden : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { tok_ = NeoxTokenizer::load(neox_file()); }
  static void TearDownTestSuite() { tok_.reset(); }
  static std::unique_ptr<NeoxTokenizer> tok_;
};
std::unique_ptr<NeoxTokenizer> NeoxGolden::tok_;

TEST_F(NeoxGolden, Shape) {
  EXPECT_EQ(tok_->name(), "20b");
  EXPECT_EQ(tok_->vocab_size(), 50277u);
  EXPECT_EQ(tok_->end_of_text(), 0);
  EXPECT_TRUE(tok_->is_special(0));
  EXPECT_TRUE(tok_->is_special(1));
  EXPECT_FALSE(tok_->is_special(2));
  EXPECT_FALSE(tok_->is_special(50254));  // a space run: an added token, but not special
  EXPECT_FALSE(tok_->is_special(-1));
  EXPECT_FALSE(tok_->is_special(50277));
  EXPECT_EQ(tok_->token_bytes(0), "<|endoftext|>");
  EXPECT_EQ(tok_->token_bytes(1), "<|padding|>");
  EXPECT_EQ(tok_->token_bytes(187), "\n");
  EXPECT_EQ(tok_->token_bytes(535), "\n\n");
  EXPECT_EQ(tok_->token_bytes(50254), std::string(24, ' '));
  EXPECT_EQ(tok_->token_bytes(50276), "  ");
}

TEST_F(NeoxGolden, TestVectors) {
  const auto j = read_json(rwkv::test::shared_dir() / "vocab" / "tokenizer_test_vectors.json");
  const auto& cases = j.at("gpt_neox_20b");
  ASSERT_GE(cases.size(), 21u);
  for (const auto& c : cases) {
    const std::string text = c.at("text");
    SCOPED_TRACE(text);
    const auto want = c.at("ids").get<std::vector<TokenId>>();
    EXPECT_EQ(tok_->encode(text), want);
  }
}

TEST_F(NeoxGolden, TestVectorsDecodeToNfcText) {
  const auto j = read_json(rwkv::test::shared_dir() / "vocab" / "tokenizer_test_vectors.json");
  for (const auto& c : j.at("gpt_neox_20b")) {
    const std::string text = c.at("text");
    SCOPED_TRACE(text);
    const auto ids = c.at("ids").get<std::vector<TokenId>>();
    const std::string decoded = tok_->decode_bytes(ids);
    // NFC is idempotent: encoding the decoded text gives the same ids.
    EXPECT_EQ(tok_->encode(decoded), ids);
    if (text.find("\xcc\x81") == std::string::npos && text.find("\xe2\x84\xa6") == std::string::npos &&
        text.find("\xcc\x8a") == std::string::npos) {
      EXPECT_EQ(decoded, text);  // already NFC
    }
  }
}

TEST_F(NeoxGolden, SpecNormalisationExamples) {
  EXPECT_EQ(tok_->encode("e\xcc\x81 vs \xc3\xa9"), tok_->encode("\xc3\xa9 vs \xc3\xa9"));
  // A + ring above + acute -> U+01FA; fi ligature stays (NFC, not NFKC); Ohm sign -> Omega.
  EXPECT_EQ(tok_->decode_bytes(tok_->encode("A\xcc\x8a\xcc\x81 \xef\xac\x81 \xe2\x84\xa6")),
            "\xc7\xba \xef\xac\x81 \xce\xa9");
}

TEST_F(NeoxGolden, Rwkv4ManifestPrompts) {
  const auto m = read_json(rwkv::test::golden("rwkv4/manifest.json"));
  const auto& items = m.at("prompts").at("items");
  ASSERT_EQ(items.size(), 7u);
  for (const auto& p : items) {
    const std::string text = p.at("text");
    SCOPED_TRACE(p.at("name").get<std::string>());
    const auto want = p.at("ids").get<std::vector<TokenId>>();
    EXPECT_EQ(tok_->encode(text), want);
    EXPECT_EQ(want.size(), p.at("n_tokens").get<std::size_t>());
  }
  // The tokenwise prompt's ids are the dragons prompt's.
  EXPECT_EQ(tok_->encode(items.at(1).at("text").get<std::string>()),
            m.at("tokenwise").at("ids").get<std::vector<TokenId>>());
}

TEST_F(NeoxGolden, GreedyContinuationsDecodeAsHf) {
  // HF decodes lossily (U+FFFD for invalid UTF-8); the manifest has that text.
  const auto m = read_json(rwkv::test::golden("rwkv4/manifest.json"));
  for (const char* name : {"dragons", "chat"}) {
    SCOPED_TRACE(name);
    const auto& g = m.at("greedy").at("items").at(name);
    const auto ids = g.at("generated_ids").get<std::vector<TokenId>>();
    EXPECT_EQ(rwkv::to_valid_utf8(tok_->decode_bytes(ids), true),
              g.at("generated_text_hf_decode").get<std::string>());
  }
}

TEST_F(NeoxGolden, ChatRwkvDemoIds) {
  const std::vector<TokenId> ids{187, 510, 1563, 310, 247};
  EXPECT_EQ(tok_->decode_bytes(ids), "\nThe following is a");
  EXPECT_EQ(tok_->encode("\nThe following is a"), ids);
}

TEST_F(NeoxGolden, SpaceRunAddedTokens) {
  // Leftmost-longest over the whole text; the text between matches is encoded on its own.
  EXPECT_EQ(tok_->encode("a  b   c"), (std::vector<TokenId>{66, 50276, 67, 50275, 68}));
  EXPECT_EQ(tok_->encode(std::string(30, ' ')), (std::vector<TokenId>{50254, 50272}));
  EXPECT_EQ(tok_->encode("x" + std::string(25, ' ') + "y"), (std::vector<TokenId>{89, 50254, 340}));
  EXPECT_EQ(tok_->encode(std::string(48, ' ')), (std::vector<TokenId>{50254, 50254}));
  EXPECT_EQ(tok_->encode(" "), (std::vector<TokenId>{209}));
  EXPECT_EQ(tok_->encode(" x"), tok_->encode(" x"));
  // Every run length from 2 to 24 is one token.
  for (int n = 2; n <= 24; ++n)
    EXPECT_EQ(tok_->encode(std::string(n, ' ')), (std::vector<TokenId>{50276 - (n - 2)}));
  // Other whitespace is not part of the space-run tokens.
  EXPECT_EQ(tok_->encode("\t\t  \t"), (std::vector<TokenId>{623, 50276, 186}));
}

TEST_F(NeoxGolden, SpecialTokensInText) {
  EXPECT_EQ(tok_->encode("Hello<|endoftext|>world"), (std::vector<TokenId>{12092, 0, 10186}));
  EXPECT_EQ(tok_->encode("<|endoftext|><|padding|>"), (std::vector<TokenId>{0, 1}));
  EXPECT_EQ(tok_->encode("<|endoftext|"), tok_->encode("<|endoftext|"));
  const auto partial = tok_->encode("<|endoftext|");
  EXPECT_EQ(std::count(partial.begin(), partial.end(), 0), 0);
  // Specials are matched before NFC: a combining mark after one does not compose into it.
  const auto ids = tok_->encode("<|endoftext|>\xcc\x81");
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids[0], 0);
  EXPECT_EQ(tok_->decode_bytes(ids), "<|endoftext|>\xcc\x81");
  // '>' + U+0338 composes to U+226F under NFC, but the special token is cut out first, as in HF.
  const auto overlay = tok_->encode("<|endoftext|>\xcc\xb8");
  ASSERT_FALSE(overlay.empty());
  EXPECT_EQ(overlay[0], 0);
  EXPECT_EQ(tok_->decode_bytes(overlay), "<|endoftext|>\xcc\xb8");
  EXPECT_EQ(tok_->decode_bytes(tok_->encode("a>\xcc\xb8")), "a\xe2\x89\xaf");
}

TEST_F(NeoxGolden, DecodeMayEndInsideACharacter) {
  // 14931 is the first two bytes of a 4-byte emoji.
  const std::string b = tok_->token_bytes(14931);
  EXPECT_EQ(b.size(), 2u);
  EXPECT_EQ(rwkv::utf8_complete_prefix(b), 0u);
  EXPECT_EQ(rwkv::to_valid_utf8(b, true), "\xef\xbf\xbd");
}

TEST_F(NeoxGolden, BadInputIsAnError) {
  EXPECT_THROW(tok_->encode("ok \xff"), rwkv::Error);
  try {
    tok_->encode("ab\xc3");
    FAIL();
  } catch (const rwkv::Error& e) {
    EXPECT_NE(std::string(e.what()).find("byte offset 2"), std::string::npos) << e.what();
  }
  const std::vector<TokenId> bad{12092, 50277};
  try {
    tok_->decode_bytes(bad);
    FAIL();
  } catch (const rwkv::Error& e) {
    EXPECT_NE(std::string(e.what()).find("50277"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("position 1"), std::string::npos) << e.what();
  }
  EXPECT_THROW(tok_->token_bytes(-1), rwkv::Error);
}

TEST_F(NeoxGolden, EmptyAndNul) {
  EXPECT_TRUE(tok_->encode("").empty());
  EXPECT_TRUE(tok_->decode_bytes({}).empty());
  const std::string nul("a\0b", 3);
  EXPECT_EQ(tok_->decode_bytes(tok_->encode(nul)), nul);
}

}  // namespace

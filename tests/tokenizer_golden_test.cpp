// WorldTokenizer against the reference outputs: shared/golden/tokenizer_cases.json (ids, ids with EOS,
// piece bytes, decoding, decode_cases) and the rwkv_world cases of shared/vocab/tokenizer_test_vectors.json.
#include <fstream>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "rwkv/error.h"
#include "test_support.h"
#include "tokenizer/world_tokenizer.h"

namespace {

using rwkv::TokenId;
using rwkv::WorldTokenizer;

std::string to_hex(std::string_view s) {
  std::string out;
  for (char c : s) {
    out.push_back("0123456789abcdef"[static_cast<unsigned char>(c) >> 4]);
    out.push_back("0123456789abcdef"[static_cast<unsigned char>(c) & 15]);
  }
  return out;
}

nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

class TokenizerGolden : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tok_ = std::make_unique<WorldTokenizer>(WorldTokenizer::load(rwkv::test::vocab_path()));
  }
  static void TearDownTestSuite() { tok_.reset(); }
  static std::unique_ptr<WorldTokenizer> tok_;
};
std::unique_ptr<WorldTokenizer> TokenizerGolden::tok_;

TEST_F(TokenizerGolden, VocabShape) {
  EXPECT_EQ(tok_->vocab_size(), 65529u);
  EXPECT_EQ(tok_->max_token_length(), 128u);
  for (int b = 0; b < 256; ++b) EXPECT_EQ(tok_->token_bytes(b + 1), std::string(1, static_cast<char>(b)));
  EXPECT_EQ(tok_->token_bytes(0), "<|endoftext|>");
}

TEST_F(TokenizerGolden, TokenizerCases) {
  const auto j = read_json(rwkv::test::golden("tokenizer_cases.json"));
  ASSERT_EQ(j["eos_id"].get<int>(), rwkv::kEmbeddingEos);
  ASSERT_GE(j["cases"].size(), 40u);
  for (const auto& c : j["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const std::string text = c["text"];
    EXPECT_EQ(to_hex(text), c["utf8_hex"].get<std::string>());
    const std::vector<TokenId> ids = tok_->encode(text);
    EXPECT_EQ(ids, c["ids"].get<std::vector<TokenId>>());
    std::vector<TokenId> with_eos = ids;
    with_eos.push_back(rwkv::kEmbeddingEos);
    EXPECT_EQ(with_eos, c["ids_with_eos"].get<std::vector<TokenId>>());
    std::vector<std::string> pieces;
    for (TokenId id : ids) pieces.push_back(to_hex(tok_->token_bytes(id)));
    EXPECT_EQ(pieces, c["pieces_hex"].get<std::vector<std::string>>());
    const std::string decoded = tok_->decode_bytes(ids);
    EXPECT_EQ(rwkv::to_valid_utf8(decoded, false), c["decoded"].get<std::string>());
    EXPECT_EQ(decoded == text, c["roundtrip"].get<bool>());
    // The EOS decodes only when special ids are skipped.
    EXPECT_THROW(tok_->decode_bytes(with_eos), rwkv::Error);
    EXPECT_EQ(tok_->decode_bytes(with_eos, {.skip_special = true}), decoded);
  }
}

TEST_F(TokenizerGolden, DecodeCases) {
  const auto j = read_json(rwkv::test::golden("tokenizer_cases.json"));
  ASSERT_GE(j["decode_cases"].size(), 5u);
  for (const auto& c : j["decode_cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto ids = c["ids"].get<std::vector<TokenId>>();
    if (c["bytes_hex"].is_null()) {  // no bytes at all: the id is not decodable
      try {
        tok_->decode_bytes(ids);
        ADD_FAILURE() << "expected rwkv::Error";
      } catch (const rwkv::Error& e) {
        EXPECT_NE(std::string(e.what()).find(std::to_string(ids[0])), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("position 0"), std::string::npos) << e.what();
      }
      continue;
    }
    const std::string bytes = tok_->decode_bytes(ids);
    EXPECT_EQ(to_hex(bytes), c["bytes_hex"].get<std::string>());
    if (c["utf8_strict"].is_null()) {
      EXPECT_THROW(rwkv::to_valid_utf8(bytes, false), rwkv::Error);
    } else {
      EXPECT_EQ(rwkv::to_valid_utf8(bytes, false), c["utf8_strict"].get<std::string>());
    }
    if (c.contains("utf8_replace")) {
      EXPECT_EQ(rwkv::to_valid_utf8(bytes, true), c["utf8_replace"].get<std::string>());
    }
  }
}

TEST_F(TokenizerGolden, TestVectors) {
  const auto j = read_json(rwkv::test::shared_dir() / "vocab" / "tokenizer_test_vectors.json");
  ASSERT_EQ(j["rwkv_world"].size(), 13u);
  for (const auto& c : j["rwkv_world"]) {
    const std::string text = c["text"];
    SCOPED_TRACE(text);
    const auto ids = tok_->encode(text);
    EXPECT_EQ(ids, c["ids"].get<std::vector<TokenId>>());
    std::vector<TokenId> appended{7};
    tok_->encode(text, appended);  // the appending overload keeps what was there
    appended.push_back(rwkv::kEmbeddingEos);
    EXPECT_EQ(std::vector<TokenId>(appended.begin() + 1, appended.end()),
              c["ids_with_eos"].get<std::vector<TokenId>>());
    EXPECT_EQ(tok_->decode_bytes(ids), text);
  }
}

TEST_F(TokenizerGolden, DecodeRules) {
  const std::vector<TokenId> ids{33155, 0, 40213, 65535};
  EXPECT_EQ(tok_->decode_bytes(std::vector<TokenId>{33155, 0, 40213}), "Hello<|endoftext|> world");
  EXPECT_EQ(tok_->decode_bytes(ids, {.skip_special = true}), "Hello world");
  try {
    tok_->decode_bytes(ids);
    ADD_FAILURE() << "65535 must not decode";
  } catch (const rwkv::Error& e) {
    EXPECT_NE(std::string(e.what()).find("65535"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("position 3"), std::string::npos) << e.what();
  }
  for (TokenId bad : {-1, 65530, 65534, 65536, 1 << 30}) {
    SCOPED_TRACE(bad);
    try {
      tok_->decode_bytes(std::vector<TokenId>{1, bad}, {.skip_special = true});
      ADD_FAILURE() << "id must not decode";
    } catch (const rwkv::Error& e) {
      EXPECT_NE(std::string(e.what()).find(std::to_string(bad)), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("position 1"), std::string::npos) << e.what();
    }
    EXPECT_THROW(tok_->token_bytes(bad), rwkv::Error);
  }
}

}  // namespace

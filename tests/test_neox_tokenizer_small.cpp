// NeoxTokenizer on a small hand-made tokenizer.json (test_neox_tokenizer_fixture.h): BPE merge order,
// added-token matching and its flags (single_word, lstrip, rstrip, normalized, special), the
// pre-tokenizer options, ignore_merges, bytes without a token, and an error naming the field for every
// kind of malformed file.
#include <functional>
#include <string>
#include <vector>

#include "rwkv/error.h"
#include "test_neox_tokenizer_fixture.h"
#include "test_support.h"
#include "tokenizer/neox_tokenizer.h"

namespace {

using rwkv::NeoxTokenizer;
using rwkv::TokenId;
using rwkv::test::add_token;
using rwkv::test::bl;
using rwkv::test::small_bpe;
using rwkv::test::SmallBpe;
using Ids = std::vector<TokenId>;

std::unique_ptr<NeoxTokenizer> load(const SmallBpe& f) {
  return NeoxTokenizer::from_json(f.json.dump(), "small.json");
}

TokenId added_id(const SmallBpe& f, const std::string& content) {
  for (const auto& t : f.json["added_tokens"])
    if (t["content"] == content) return t["id"].get<TokenId>();
  ADD_FAILURE() << "no added token " << content;
  return -1;
}

TokenId b(char c) {
  return static_cast<unsigned char>(c);
}

TEST(NeoxSmall, MergesAndPieces) {
  const SmallBpe f = small_bpe();
  const auto tok = load(f);
  EXPECT_EQ(tok->encode("hello world"), (Ids{f.id("hello"), f.id(" world")}));
  // " the": "h e" has the lowest rank, so " t" + "he", never " th" + "e" (" the" is unreachable).
  EXPECT_EQ(tok->encode("hello the"), (Ids{f.id("hello"), f.id(" t"), f.id("he")}));
  // "aaaaa": aa, aa merge first (rank 12, leftmost first), then aaaa; the fifth a stays.
  EXPECT_EQ(tok->encode("aaaaa"), (Ids{f.id("aaaa"), b('a')}));
  EXPECT_EQ(tok->encode("aaa"), (Ids{f.id("aa"), b('a')}));
  // The regex splits letters from digits, so "a1" (a merge) never forms from text.
  EXPECT_EQ(tok->encode("a1"), (Ids{b('a'), b('1')}));
  // "hel" is in the vocab but BPE reaches he + l (ignore_merges is off).
  EXPECT_EQ(tok->encode("hel"), (Ids{f.id("he"), b('l')}));
  // "xyz": xy (rank 19), then xyz (rank 20).
  EXPECT_EQ(tok->encode("xyz"), (Ids{f.id("xyz")}));
  EXPECT_EQ(tok->decode_bytes(tok->encode("hello world")), "hello world");
  EXPECT_EQ(tok->vocab_size(), static_cast<std::size_t>(added_id(f, "  ") + 1));
}

TEST(NeoxSmall, NfcBeforeBpe) {
  const SmallBpe f = small_bpe();
  const auto tok = load(f);
  // e + U+0301 is composed to U+00E9 (C3 A9), which has a merge.
  EXPECT_EQ(tok->encode("e\xcc\x81"), (Ids{f.id("\xc3\xa9")}));
  EXPECT_EQ(tok->decode_bytes(tok->encode("e\xcc\x81")), "\xc3\xa9");
}

TEST(NeoxSmall, AddedTokensLeftmostLongest) {
  const SmallBpe f = small_bpe();
  const auto tok = load(f);
  const TokenId two = added_id(f, "  "), three = added_id(f, "   "), eot = added_id(f, "<|endoftext|>");
  EXPECT_EQ(tok->encode("a     b"), (Ids{b('a'), three, two, b('b')}));
  EXPECT_EQ(tok->encode("hello<|endoftext|>  world"),
            (Ids{f.id("hello"), eot, two, b('w'), b('o'), f.id("rl"), b('d')}));
  EXPECT_TRUE(tok->is_special(eot));
  EXPECT_FALSE(tok->is_special(two));
  EXPECT_EQ(tok->decode_bytes(Ids{eot, three}), "<|endoftext|>   ");
}

TEST(NeoxSmall, OverlappingAddedTokens) {
  SmallBpe f = small_bpe();
  const TokenId ab = add_token(f, "ab", false, true);
  const TokenId abc = add_token(f, "abc", false, true);
  const TokenId bcd = add_token(f, "bcd", false, true);
  const auto tok = load(f);
  EXPECT_EQ(tok->encode("abcd"), (Ids{abc, b('d')}));  // leftmost, then longest
  EXPECT_EQ(tok->encode("xbcd"), (Ids{b('x'), bcd}));
  EXPECT_EQ(tok->encode("abab"), (Ids{ab, ab}));
}

TEST(NeoxSmall, SingleWord) {
  SmallBpe f = small_bpe();
  const TokenId mask = add_token(f, "<mask>", true, false, /*single_word=*/true);
  const auto tok = load(f);
  const auto ids = tok->encode("<mask> a<mask> <mask>b <mask>");
  ASSERT_GE(ids.size(), 2u);
  EXPECT_EQ(ids.front(), mask);
  EXPECT_EQ(ids.back(), mask);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), mask), 2);
  // Punctuation is not a word character; a combining mark is.
  const auto punct = tok->encode(",<mask>-");
  EXPECT_EQ(std::count(punct.begin(), punct.end(), mask), 1);
  const auto mark = tok->encode("\xcc\xb0<mask>");
  EXPECT_EQ(std::count(mark.begin(), mark.end(), mask), 0);
}

TEST(NeoxSmall, LstripRstrip) {
  SmallBpe f = small_bpe();
  const TokenId m = add_token(f, "<m>", true, false, false, /*lstrip=*/true, /*rstrip=*/true);
  const auto tok = load(f);
  // The spaces (and a tab, Unicode whitespace) around the token are taken by it.
  EXPECT_EQ(tok->encode("x <m> y"), (Ids{b('x'), m, b('y')}));
  EXPECT_EQ(tok->encode("x\t<m>\xe2\x80\x80y"), (Ids{b('x'), m, b('y')}));
  // The second token cannot take spaces the first one already took.
  EXPECT_EQ(tok->encode("<m> <m>"), (Ids{m, m}));
  SmallBpe plain = small_bpe();
  const TokenId p = add_token(plain, "<m>", true, false);
  EXPECT_EQ(load(plain)->encode("x <m> y"), (Ids{b('x'), b(' '), p, b(' '), b('y')}));
}

TEST(NeoxSmall, NormalizedFlag) {
  SmallBpe f = small_bpe();
  // U+00F6 (o with diaeresis), precomposed. normalized=true: matched after NFC, so "o" + U+0308 matches;
  // normalized=false: matched in the raw text only.
  const TokenId norm = add_token(f, "\xc3\xb6", false, true);
  const TokenId raw = add_token(f, "\xc3\xbc", false, false);  // U+00FC
  const auto tok = load(f);
  EXPECT_EQ(tok->encode("o\xcc\x88"), (Ids{norm}));
  EXPECT_EQ(tok->encode("\xc3\xbc"), (Ids{raw}));
  EXPECT_EQ(tok->encode("u\xcc\x88"), (Ids{b('\xc3'), b('\xbc')}));  // composed by NFC, but after matching
}

TEST(NeoxSmall, PreTokenizerOptions) {
  SmallBpe f = small_bpe();
  f.json["pre_tokenizer"]["add_prefix_space"] = true;
  EXPECT_EQ(load(f)->encode("world"), (Ids{f.id(" world")}));
  EXPECT_EQ(load(f)->encode(" world"), (Ids{f.id(" world")}));
  f.json["pre_tokenizer"]["add_prefix_space"] = false;
  f.json["pre_tokenizer"]["use_regex"] = false;
  EXPECT_EQ(load(f)->encode("a1"), (Ids{f.id("a1")}));  // no split between letters and digits
  f.json["normalizer"] = nullptr;
  EXPECT_EQ(load(f)->encode("e\xcc\x81"), (Ids{b('e'), b('\xcc'), b('\x81')}));
}

TEST(NeoxSmall, IgnoreMerges) {
  SmallBpe f = small_bpe();
  f.json["model"]["ignore_merges"] = true;
  EXPECT_EQ(load(f)->encode("hel"), (Ids{f.id("hel")}));
}

TEST(NeoxSmall, BytesWithoutAToken) {
  SmallBpe f = small_bpe();
  f.json["model"]["vocab"].erase(bl("\xc3"));
  f.json["model"]["merges"].erase(std::prev(f.json["model"]["merges"].end(), 3));  // "Ã ©"
  // No unk token: the byte is dropped, as HF does.
  EXPECT_EQ(load(f)->encode("\xc3\xa9"), (Ids{b('\xa9')}));
  f.json["model"]["unk_token"] = bl("a");
  EXPECT_EQ(load(f)->encode("\xc3\xa9"), (Ids{b('a'), b('\xa9')}));
  f.json["model"]["unk_token"] = "<nope>";
  EXPECT_THROW(load(f), rwkv::Error);
}

TEST(NeoxSmall, DecodeAddedTokenOverridesModelText) {
  SmallBpe f = small_bpe();
  // An added token whose content is byte-level text decodes through the byte map, as HF's decoder does.
  const TokenId t = add_token(f, bl(" hi"), false, false);
  EXPECT_EQ(load(f)->token_bytes(t), " hi");
}

// Each mutation breaks the fixture in one way; the error must name the field.
struct Malformed {
  const char* what;
  std::function<void(nlohmann::json&)> mutate;
  const char* field;
};

TEST(NeoxSmall, MalformedFilesNameTheField) {
  const std::vector<Malformed> cases{
      {"no model", [](auto& j) { j.erase("model"); }, "'model'"},
      {"model type", [](auto& j) { j["model"]["type"] = "WordPiece"; }, "'model.type'"},
      {"no vocab", [](auto& j) { j["model"].erase("vocab"); }, "'model.vocab'"},
      {"vocab array", [](auto& j) { j["model"]["vocab"] = nlohmann::json::array(); }, "'model.vocab'"},
      {"vocab id string", [](auto& j) { j["model"]["vocab"]["x"] = "1"; }, "'model.vocab[\"x\"]'"},
      {"vocab id negative", [](auto& j) { j["model"]["vocab"]["x"] = -3; }, "'model.vocab[\"x\"]'"},
      {"vocab id huge", [](auto& j) { j["model"]["vocab"]["x"] = 1ll << 40; }, "'model.vocab[\"x\"]'"},
      {"vocab duplicate id", [](auto& j) { j["model"]["vocab"]["zzz"] = 5; }, "'model.vocab'"},
      {"no merges", [](auto& j) { j["model"].erase("merges"); }, "'model.merges'"},
      {"merges object", [](auto& j) { j["model"]["merges"] = nlohmann::json::object(); }, "'model.merges'"},
      {"merge no space", [](auto& j) { j["model"]["merges"][3] = "hell"; }, "'model.merges[3]'"},
      {"merge two spaces", [](auto& j) { j["model"]["merges"][3] = "h e l"; }, "'model.merges[3]'"},
      {"merge number", [](auto& j) { j["model"]["merges"][2] = 7; }, "'model.merges[2]'"},
      {"merge unknown left", [](auto& j) { j["model"]["merges"][1] = "Q\xc3\x9f l"; }, "'model.merges[1]'"},
      {"merge result unknown", [](auto& j) { j["model"]["merges"][0] = "q z"; }, "'model.merges[0]'"},
      {"dropout", [](auto& j) { j["model"]["dropout"] = 0.1; }, "'model.dropout'"},
      {"subword prefix", [](auto& j) { j["model"]["continuing_subword_prefix"] = "##"; },
       "'model.continuing_subword_prefix'"},
      {"suffix", [](auto& j) { j["model"]["end_of_word_suffix"] = "</w>"; }, "'model.end_of_word_suffix'"},
      {"unk type", [](auto& j) { j["model"]["unk_token"] = 3; }, "'model.unk_token'"},
      {"ignore_merges type", [](auto& j) { j["model"]["ignore_merges"] = "yes"; }, "'model.ignore_merges'"},
      {"normalizer",
       [](auto& j) {
         j["normalizer"] = {{"type", "NFKC"}};
       },
       "'normalizer.type'"},
      {"normalizer no type", [](auto& j) { j["normalizer"] = nlohmann::json::object(); },
       "'normalizer.type'"},
      {"normalizer string", [](auto& j) { j["normalizer"] = "NFC"; }, "'normalizer'"},
      {"no pre_tokenizer", [](auto& j) { j.erase("pre_tokenizer"); }, "'pre_tokenizer'"},
      {"pre_tokenizer type", [](auto& j) { j["pre_tokenizer"]["type"] = "Whitespace"; },
       "'pre_tokenizer.type'"},
      {"add_prefix_space missing", [](auto& j) { j["pre_tokenizer"].erase("add_prefix_space"); },
       "'pre_tokenizer.add_prefix_space'"},
      {"use_regex type", [](auto& j) { j["pre_tokenizer"]["use_regex"] = 1; }, "'pre_tokenizer.use_regex'"},
      {"no decoder", [](auto& j) { j["decoder"] = nullptr; }, "'decoder'"},
      {"decoder type", [](auto& j) { j["decoder"]["type"] = "WordPiece"; }, "'decoder.type'"},
      {"post processor",
       [](auto& j) {
         j["post_processor"] = {{"type", "TemplateProcessing"}};
       },
       "'post_processor.type'"},
      {"added not array", [](auto& j) { j["added_tokens"] = 5; }, "'added_tokens'"},
      {"added not object", [](auto& j) { j["added_tokens"][1] = "x"; }, "'added_tokens[1]'"},
      {"added no id", [](auto& j) { j["added_tokens"][0].erase("id"); }, "'added_tokens[0].id'"},
      {"added id float", [](auto& j) { j["added_tokens"][0]["id"] = 1.5; }, "'added_tokens[0].id'"},
      {"added no content", [](auto& j) { j["added_tokens"][2].erase("content"); },
       "'added_tokens[2].content'"},
      {"added content number", [](auto& j) { j["added_tokens"][2]["content"] = 2; },
       "'added_tokens[2].content'"},
      {"added flag type", [](auto& j) { j["added_tokens"][1]["lstrip"] = "no"; }, "'added_tokens[1].lstrip'"},
      {"top level array", [](auto& j) { j = nlohmann::json::array(); }, "top level"},
      {"sparse ids", [](auto& j) { j["model"]["vocab"]["far"] = 100000000; }, "'model.vocab'"},
  };
  for (const Malformed& c : cases) {
    SCOPED_TRACE(c.what);
    SmallBpe f = small_bpe();
    c.mutate(f.json);
    try {
      load(f);
      ADD_FAILURE() << "no error";
    } catch (const rwkv::Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(c.field), std::string::npos) << msg;
      EXPECT_NE(msg.find("small.json"), std::string::npos) << msg;
    }
  }
}

TEST(NeoxSmall, NotJson) {
  const std::string good = small_bpe().json.dump();
  for (const std::string& text : {std::string(""), std::string("{"), good.substr(0, good.size() / 2),
                                  std::string("{\"model\": \"\xff\"}"), std::string("\0\0", 2),
                                  std::string("{\"model\": 66E6666666}")}) {
    try {
      NeoxTokenizer::from_json(text, "bad.json");
      ADD_FAILURE() << "no error for " << text.substr(0, 20);
    } catch (const rwkv::Error& e) {
      EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(NeoxTokenizer::load("/nonexistent/20B_tokenizer.json"), rwkv::Error);
}

}  // namespace

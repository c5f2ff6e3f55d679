// Generator: greedy continuations of the golden RWKV-4 and RWKV-7 language models through the real
// tokenizers (text in, ids and text out), seeded sampling, and, with a scripted stand-in model, the stop
// rules (length, end-of-text, stop strings across token boundaries), cancellation and UTF-8-safe
// streaming. TextStreamer is also tested on its own.
#include <fstream>

#include <nlohmann/json.hpp>

#include "pipeline/generator.h"
#include "pipeline/text_streamer.h"
#include "rwkv/error.h"
#include "test_x040_lm_support.h"
#include "tokenizer/tokenizer_select.h"
#include "tokenizer/world_utf8.h"

namespace rwkv::test {
namespace {

using nlohmann::json;

std::string from_hex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

std::unique_ptr<Tokenizer> neox_tokenizer() {
  return load_tokenizer((shared_dir() / "vocab" / "20B_tokenizer.json").string(), ModelHint::kRwkv4);
}
std::unique_ptr<Tokenizer> world_tokenizer() {
  return load_tokenizer(vocab_path().string(), ModelHint::kRwkv7);
}

GenerateOptions greedy_options(int n) {
  GenerateOptions o;
  o.max_tokens = n;
  o.sampling.temperature = 0;
  o.stop_at_end_of_text = false;  // the golden paths treat id 0 as an ordinary token
  return o;
}

// ---- golden greedy continuations ----

TEST(GenerateGolden, Rwkv4GreedyContinuationsFromText) {
  const auto& g = x040_golden();
  const auto tok = neox_tokenizer();
  ThreadPool pool(2);
  Generator gen(*g.model, *tok, kernels_for(select_isa()), pool);
  const auto& items = g.manifest["greedy"]["items"];
  for (const char* name : {"dragons", "chat"}) {
    SCOPED_TRACE(name);
    const auto& it = items[name];
    const json& prompt = g.manifest["prompts"]["items"][it["prompt_row"].get<std::size_t>()];
    ASSERT_EQ(tok->encode(prompt["text"].get<std::string>()), ids_of(it["prompt_ids"]));  // round trip
    std::string streamed;
    const auto r =
        gen.generate(prompt["text"].get<std::string>(), greedy_options(g.manifest["greedy"]["n_generate"]),
                     [&](std::string_view piece) {
                       EXPECT_EQ(find_invalid_utf8(piece), std::string::npos);
                       EXPECT_FALSE(piece.empty());
                       streamed += piece;
                       return true;
                     });
    EXPECT_EQ(r.prompt_tokens, ids_of(it["prompt_ids"]));
    EXPECT_EQ(r.tokens, ids_of(it["generated_ids"]));
    EXPECT_EQ(r.finish_reason, "length");
    EXPECT_EQ(streamed, r.text);
    // The streamed pieces join to HF's lossy decode of the whole continuation.
    EXPECT_EQ(r.text, it["generated_text_hf_decode"].get<std::string>());
  }
}

TEST(GenerateGolden, Rwkv7GreedyContinuationsFromText) {
  const auto& g = x070_lm_golden();
  const auto tok = world_tokenizer();
  ThreadPool pool(2);
  Generator gen(*g.model, *tok, kernels_for(select_isa()), pool);
  for (const auto& [name, it] : g.manifest["greedy"]["items"].items()) {
    SCOPED_TRACE(name);
    const json& prompt = g.manifest["prompts"]["items"][it["prompt_row"].get<std::size_t>()];
    ASSERT_EQ(tok->encode(prompt["text"].get<std::string>()), ids_of(it["prompt_ids"]));
    const auto r =
        gen.generate(prompt["text"].get<std::string>(), greedy_options(g.manifest["greedy"]["n_generate"]));
    EXPECT_EQ(r.tokens, ids_of(it["generated_ids"]));
    EXPECT_EQ(r.finish_reason, "length");
    EXPECT_EQ(r.text, to_valid_utf8(from_hex(it["generated_bytes_hex"]), true));
  }
}

TEST(GenerateGolden, SeededSamplingIsReproducible) {
  const auto& g = x040_golden();
  const auto tok = neox_tokenizer();
  ThreadPool pool(2);
  Generator gen(*g.model, *tok, kernels_for(select_isa()), pool);
  GenerateOptions o;
  o.max_tokens = 24;
  o.sampling.temperature = 1.0;
  o.sampling.top_p = 0.9;
  o.sampling.presence_penalty = 0.3;
  o.sampling.frequency_penalty = 0.3;
  o.seed = 1234;
  const auto a = gen.generate("Hello world", o);
  const auto b = gen.generate("Hello world", o);
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.seed, 1234u);
  o.seed = 1235;
  EXPECT_NE(gen.generate("Hello world", o).tokens, a.tokens);
  // A drawn token is always one the filter keeps: with top_k 1 sampling equals greedy.
  o.sampling.top_k = 1;
  o.sampling.presence_penalty = o.sampling.frequency_penalty = 0;
  const auto& want = g.manifest["greedy"]["items"]["dragons"];
  const auto& prompt = g.manifest["prompts"]["items"][want["prompt_row"].get<std::size_t>()];
  EXPECT_EQ(gen.generate(prompt["text"].get<std::string>(), o).tokens, ids_of(want["generated_ids"]));
}

TEST(GenerateGolden, RejectsBadRequestsNamingTheField) {
  const auto& g = x040_golden();
  const auto tok = neox_tokenizer();
  ThreadPool pool(1);
  Generator gen(*g.model, *tok, kernels_for(select_isa()), pool);
  GenerateOptions o;
  EXPECT_NE(error_of([&] { gen.generate("", o); }).find("prompt"), std::string::npos);
  const std::vector<TokenId> out_of_range = {5, 50277};
  EXPECT_NE(error_of([&] { gen.generate_tokens(out_of_range, o); }).find("50277"), std::string::npos);
  o.max_tokens = -1;
  EXPECT_NE(error_of([&] { gen.generate("x", o); }).find("max_tokens"), std::string::npos);
  o = {};
  o.stop = {"ok", ""};
  EXPECT_NE(error_of([&] { gen.generate("x", o); }).find("stop[1]"), std::string::npos);
  o = {};
  o.sampling.top_p = 2;
  EXPECT_NE(error_of([&] { gen.generate("x", o); }).find("top_p"), std::string::npos);
  o = {};
  o.max_tokens = 0;  // prefill only
  const auto r = gen.generate("Hello world", o);
  EXPECT_TRUE(r.tokens.empty());
  EXPECT_EQ(r.finish_reason, "length");
}

// ---- a scripted stand-in model: whatever the input, the i-th sampled token is script[i] ----

struct ScriptState : LmState {
  std::size_t seen = 0;
  std::unique_ptr<LmState> clone() const override { return std::make_unique<ScriptState>(*this); }
};

class ScriptModel : public LanguageModel {
 public:
  ScriptModel(int vocab, std::vector<TokenId> script) : vocab_(vocab), script_(std::move(script)) {}
  std::string arch() const override { return "script"; }
  int vocab_size() const override { return vocab_; }
  std::unique_ptr<LmState> zero_state() const override { return std::make_unique<ScriptState>(); }
  LmCost cost_per_token() const override { return {}; }
  void forward_batch(std::span<LmRequest> batch, const KernelTable&, ThreadPool&) const override {
    for (auto& r : batch) {
      auto& s = static_cast<ScriptState&>(*r.state);
      if (s.seen == 0) prompt_len = r.tokens.size();
      s.seen += r.tokens.size();
      ++calls;
      if (!r.logits) continue;
      const std::size_t step = s.seen - prompt_len;
      std::fill(r.logits, r.logits + vocab_, 0.0f);
      r.logits[script_.at(step)] = 10.0f;
    }
  }
  mutable std::size_t prompt_len = 0, calls = 0;

 private:
  int vocab_;
  std::vector<TokenId> script_;
};

// Token i decodes to pieces[i]; encode maps every byte to token 1.
class PieceTokenizer : public Tokenizer {
 public:
  explicit PieceTokenizer(std::vector<std::string> pieces) : pieces_(std::move(pieces)) {}
  std::string name() const override { return "pieces"; }
  std::size_t vocab_size() const override { return pieces_.size(); }
  std::vector<TokenId> encode(std::string_view utf8) const override {
    return std::vector<TokenId>(utf8.size(), 1);
  }
  std::string decode_bytes(std::span<const TokenId> ids) const override {
    std::string s;
    for (auto id : ids) s += pieces_.at(static_cast<std::size_t>(id));
    return s;
  }
  bool is_special(TokenId id) const override { return id == 0; }

 private:
  std::vector<std::string> pieces_;
};

struct Scripted {
  // ids:          0                  1    2       3    4         5           6       7        8
  PieceTokenizer tok{{"<|endoftext|>", "a", "\n", "\nB", "\xF0\x9F", "\xA6\x86", "END", "\xE4", "x"}};
  ThreadPool pool{1};
  std::vector<std::string> pieces;
  GenerateResult run(std::vector<TokenId> script, GenerateOptions o, int cancel_after = -1) {
    ScriptModel lm(static_cast<int>(tok.vocab_size()), std::move(script));
    Generator gen(lm, tok, kernels_for(select_isa()), pool);
    pieces.clear();
    o.sampling.temperature = 0;
    return gen.generate("p", o, [&](std::string_view p) {
      pieces.emplace_back(p);
      return cancel_after < 0 || static_cast<int>(pieces.size()) < cancel_after;
    });
  }
};

TEST(Generate, StopsAtLengthWithoutAnExtraForward) {
  Scripted s;
  GenerateOptions o;
  o.max_tokens = 3;
  ScriptModel lm(9, {1, 1, 1, 1});
  Generator gen(lm, s.tok, kernels_for(select_isa()), s.pool);
  o.sampling.temperature = 0;
  const auto r = gen.generate("p", o);
  EXPECT_EQ(r.tokens, (std::vector<TokenId>{1, 1, 1}));
  EXPECT_EQ(r.text, "aaa");
  EXPECT_EQ(r.finish_reason, "length");
  EXPECT_EQ(lm.calls, 3u);  // the prompt, then one forward per token that is sampled from
}

TEST(Generate, EndOfTextStopsAndIsNotEmittedUnlessIgnored) {
  Scripted s;
  GenerateOptions o;
  o.max_tokens = 10;
  auto r = s.run({1, 8, 0, 1, 1, 1, 1, 1, 1, 1}, o);
  EXPECT_EQ(r.tokens, (std::vector<TokenId>{1, 8}));
  EXPECT_EQ(r.text, "ax");
  EXPECT_EQ(r.finish_reason, "stop");
  o.stop_at_end_of_text = false;  // id 0 is then an ordinary (special, text-less) token
  r = s.run({1, 8, 0, 1}, (o.max_tokens = 4, o));
  EXPECT_EQ(r.tokens, (std::vector<TokenId>{1, 8, 0, 1}));
  EXPECT_EQ(r.text, "axa");
  EXPECT_EQ(r.finish_reason, "length");
}

TEST(Generate, StopStringAcrossTokenBoundariesIsNotEmitted) {
  Scripted s;
  GenerateOptions o;
  o.max_tokens = 10;
  o.stop = {"\n\n"};
  // "a" "\n" "\nB": the stop string is split between tokens 2 and 3; the held-back "\n" is never shown.
  auto r = s.run({1, 2, 3, 1, 1, 1, 1, 1, 1, 1}, o);
  EXPECT_EQ(r.text, "a");
  EXPECT_EQ(r.tokens, (std::vector<TokenId>{1, 2, 3}));
  EXPECT_EQ(r.finish_reason, "stop");
  EXPECT_EQ(r.stop_string, "\n\n");
  EXPECT_EQ(s.pieces, (std::vector<std::string>{"a"}));
  // A held-back prefix that does not become the stop string is shown later, in order.
  r = s.run({2, 1, 2, 8, 1}, (o.max_tokens = 5, o));
  EXPECT_EQ(r.text, "\na\nxa");
  EXPECT_EQ(r.finish_reason, "length");
  EXPECT_EQ(s.pieces, (std::vector<std::string>{"\na", "\nx", "a"}));
  // Several stop strings: the earliest match in the text wins; a stop string spanning three tokens.
  o.stop = {"END", "aE"};
  r = s.run({8, 1, 6, 3, 6}, o);
  EXPECT_EQ(r.text, "x");
  EXPECT_EQ(r.stop_string, "aE");
  o.stop = {"x\n\nBa"};
  r = s.run({8, 2, 3, 1, 1}, o);
  EXPECT_EQ(r.text, "");
  EXPECT_EQ(r.tokens.size(), 4u);
  EXPECT_TRUE(s.pieces.empty());
}

TEST(Generate, StreamingNeverSplitsAUtf8Character) {
  Scripted s;
  GenerateOptions o;
  o.max_tokens = 4;
  // "a", then the duck emoji U+1F986 split over two tokens, then "a".
  auto r = s.run({1, 4, 5, 1}, o);
  EXPECT_EQ(r.text,
            "a\xF0\x9F\xA6\x86"
            "a");
  EXPECT_EQ(s.pieces, (std::vector<std::string>{"a", "\xF0\x9F\xA6\x86", "a"}));
  // A lead byte that is never completed becomes U+FFFD once it cannot be completed any more.
  r = s.run({7, 1, 7}, (o.max_tokens = 3, o));
  EXPECT_EQ(r.text,
            "\xEF\xBF\xBD"
            "a\xEF\xBF\xBD");
  for (const auto& p : s.pieces) EXPECT_EQ(find_invalid_utf8(p), std::string::npos) << p;
}

TEST(Generate, SinkCanCancel) {
  Scripted s;
  GenerateOptions o;
  o.max_tokens = 10;
  const auto r = s.run({1, 8, 1, 8, 1, 8, 1, 8, 1, 8}, o, 2);
  EXPECT_EQ(r.finish_reason, "cancelled");
  EXPECT_EQ(r.tokens.size(), 2u);
  EXPECT_EQ(r.text, "ax");
  // The cancellation check runs before every step.
  int checks = 0;
  o.cancelled = [&] { return ++checks > 3; };
  const auto c = s.run({1, 8, 1, 8, 1, 8, 1, 8, 1, 8}, o);
  EXPECT_EQ(c.finish_reason, "cancelled");
  EXPECT_EQ(c.tokens.size(), 3u);
  EXPECT_EQ(c.text, "axa");
}

TEST(TextStreamer, HoldsBackOnlyWhatCouldStillMatch) {
  TextStreamer t({"STOP", "\n\n"});
  EXPECT_EQ(t.push("hello S"), "hello ");
  EXPECT_EQ(t.push("T"), "");
  EXPECT_EQ(t.push("x"), "STx");  // "STx" can no longer become "STOP"
  EXPECT_EQ(t.push("\n"), "");
  EXPECT_EQ(t.push("ST"), "\n");  // "\nST" -> only "ST" may still start a stop string
  EXPECT_EQ(t.push("OP and more"), "");
  EXPECT_TRUE(t.stopped());
  EXPECT_EQ(t.matched_stop(), "STOP");
  EXPECT_EQ(t.push("ignored"), "");
  EXPECT_EQ(t.finish(), "");
  TextStreamer u({"\n\n"});
  EXPECT_EQ(u.push("end\n"), "end");
  EXPECT_EQ(u.finish(), "\n");  // no more tokens: the held-back tail is released
  EXPECT_THROW(TextStreamer({""}), Error);
}

TEST(TextStreamer, Utf8AcrossPushesAndInvalidBytes) {
  TextStreamer t;
  EXPECT_EQ(t.push("\xE4"), "");
  EXPECT_EQ(t.push("\xB8"), "");
  EXPECT_EQ(t.push("\xAD!"), "\xE4\xB8\xAD!");  // U+4E2D
  EXPECT_EQ(t.push("\xFF"), "\xEF\xBF\xBD");    // never valid: replaced at once
  EXPECT_EQ(t.push("\xF0\x9F"), "");
  EXPECT_EQ(t.finish(), "\xEF\xBF\xBD");  // truncated at the end
  // A stop string inside a multi-byte run: the text before it is repaired.
  TextStreamer s({"\xB8\xAD"});
  EXPECT_EQ(s.push("a\xE4\xB8\xAD"), "a\xEF\xBF\xBD");
  EXPECT_TRUE(s.stopped());
}

}  // namespace
}  // namespace rwkv::test

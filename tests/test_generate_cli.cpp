// Black-box tests of `rwkv generate` (JSON and --stream output, golden greedy paths, stop strings, seeds,
// errors) and of `rwkv embed --pooling state` (the RWKV-4 simple state embedding) on the golden models.
#include <cmath>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "test_support.h"

namespace rwkv::test {
namespace {

using nlohmann::json;

// Single-quoted for the shell, with embedded quotes escaped.
std::string sh(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  out += '\'';
  return out;
}

json manifest(const std::string& set) {
  std::ifstream in(golden(set + "/manifest.json"));
  return json::parse(in);
}

std::string rwkv4_flags() {
  return " --threads 2 --model " + sh(golden("rwkv4/rwkv4-pile-random.bf16.pth").string()) + " --tokenizer " +
         sh((shared_dir() / "vocab" / "20B_tokenizer.json").string());
}
std::string rwkv7_flags() {
  return " --threads 2 --model " + sh(golden("x070-lm/rwkv7-lm-random.bf16.pth").string()) + " --vocab " +
         sh(vocab_path().string());
}

// The prompt text and greedy continuation of a manifest's greedy item.
struct GreedyCase {
  std::string prompt;
  std::vector<int> ids;
  json item;
};
GreedyCase greedy_case(const json& m, const std::string& name) {
  const json& it = m["greedy"]["items"][name];
  return {m["prompts"]["items"][it["prompt_row"].get<std::size_t>()]["text"], it["generated_ids"], it};
}

std::string last_line(const std::string& s) {
  std::istringstream in(s);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

TEST(GenerateCli, GreedyJsonMatchesGoldenForBothArchitectures) {
  const auto m4 = manifest("rwkv4");
  for (const char* name : {"dragons", "chat"}) {
    SCOPED_TRACE(name);
    const auto c = greedy_case(m4, name);
    const auto r = run_cli("generate" + rwkv4_flags() + " --temperature 0 --ignore-eos --max-tokens " +
                           std::to_string(c.ids.size()) + " --prompt " + sh(c.prompt));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = json::parse(r.out);
    EXPECT_EQ(j["tokens"].get<std::vector<int>>(), c.ids);
    EXPECT_EQ(j["text"], c.item["generated_text_hf_decode"]);
    EXPECT_EQ(j["finish_reason"], "length");
    EXPECT_EQ(j["prompt_tokens"], c.item["prompt_ids"].size());
    EXPECT_EQ(j["completion_tokens"], c.ids.size());
    EXPECT_EQ(j["arch"], "x040");
    EXPECT_EQ(j["tokenizer"], "20b");
    EXPECT_GT(j["timings"]["prompt_seconds"].get<double>(), 0);
    EXPECT_GT(j["timings"]["decode_tokens_per_s"].get<double>(), 0);
  }
  const auto m7 = manifest("x070-lm");
  const auto c = greedy_case(m7, "chat");
  const auto r = run_cli("generate" + rwkv7_flags() + " --temperature 0 --max-tokens " +
                         std::to_string(c.ids.size()) + " --prompt " + sh(c.prompt));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = json::parse(r.out);
  EXPECT_EQ(j["tokens"].get<std::vector<int>>(), c.ids);
  EXPECT_EQ(j["arch"], "x070");
  EXPECT_EQ(j["tokenizer"], "world");
}

TEST(GenerateCli, StreamWritesTextToStdoutAndTheSummaryToStderr) {
  const auto c = greedy_case(manifest("rwkv4"), "dragons");
  const auto r = run_cli("generate --stream" + rwkv4_flags() + " --temperature 0 --max-tokens 24 --prompt " +
                         sh(c.prompt));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string text = c.item["generated_text_hf_decode"];
  EXPECT_EQ(r.out, text + "\n");
  const auto j = json::parse(last_line(r.err));
  EXPECT_EQ(j["text"], text);
  EXPECT_EQ(j["tokens"].get<std::vector<int>>(), c.ids);
}

TEST(GenerateCli, StopStringsAndSeeds) {
  const auto c = greedy_case(manifest("rwkv4"), "dragons");
  const std::string text = c.item["generated_text_hf_decode"];
  const std::string stop = text.substr(5, 6);  // spans the 2nd and 3rd tokens
  auto r = run_cli("generate" + rwkv4_flags() + " --temperature 0 --max-tokens 24 --stop " + sh(stop) +
                   " --prompt " + sh(c.prompt));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  EXPECT_EQ(j["text"], text.substr(0, 5));
  EXPECT_EQ(j["finish_reason"], "stop");
  EXPECT_EQ(j["stop_string"], stop);
  EXPECT_EQ(j["tokens"].get<std::vector<int>>(), std::vector<int>(c.ids.begin(), c.ids.begin() + 3));
  // Seeds: the same seed gives the same sample; the seed is reported.
  const std::string sample = "generate" + rwkv4_flags() +
                             " --max-tokens 12 --top-p 0.9 --presence-penalty 0.4 --frequency-penalty 0.4 "
                             "--prompt 'Hello world' --seed ";
  const auto a = run_cli(sample + "99"), b = run_cli(sample + "99"), d = run_cli(sample + "100");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(json::parse(a.out)["tokens"], json::parse(b.out)["tokens"]);
  EXPECT_NE(json::parse(a.out)["tokens"], json::parse(d.out)["tokens"]);
  EXPECT_EQ(json::parse(a.out)["seed"], 99);
}

TEST(GenerateCli, ErrorsAreJsonAndNameTheProblem) {
  struct Case {
    std::string args, needle;
  };
  const std::string lm = rwkv4_flags() + " --prompt hi";
  for (const auto& c : std::vector<Case>{
           {lm + " --temperature -1", "temperature"},
           {lm + " --top-p 0", "top_p"},
           {lm + " --top-p 1.5", "top_p"},
           {lm + " --top-k -2", "top_k"},
           {lm + " --penalty-decay 2", "penalty_decay"},
           {lm + " --stop ''", "stop[0]"},
           {rwkv4_flags() + " --prompt ''", "prompt"},
           {" --model " + sh(golden("emb-model.bf16.pth").string()) + " --prompt hi", "not a language model"},
           {" --model " + sh(golden("rwkv4/rwkv4-pile-random.bf16.pth").string()) +
                " --tokenizer nope --prompt hi",
            "nope"},
       }) {
    SCOPED_TRACE(c.args);
    const auto r = run_cli("generate" + c.args);
    EXPECT_EQ(r.exit_code, 1) << r.out;
    const auto j = json::parse(last_line(r.err), nullptr, false);
    ASSERT_TRUE(j.is_object() && j.contains("error")) << r.err;
    EXPECT_NE(j["error"].get<std::string>().find(c.needle), std::string::npos) << r.err;
  }
  const auto h = run_cli("generate --help");
  EXPECT_EQ(h.exit_code, 0);
  for (const char* flag :
       {"--prompt", "--max-tokens", "--temperature", "--top-p", "--top-k", "--presence-penalty",
        "--frequency-penalty", "--seed", "--stop", "--stream", "--precision", "--threads", "--tokenizer"})
    EXPECT_NE(h.out.find(flag), std::string::npos) << flag;
  EXPECT_NE(h.out.find("top-p at temperature 1"), std::string::npos);  // the sampling order
}

TEST(LogitsCli, TextIsTokenisedWithTheModelsTokenizer) {
  const auto m = manifest("rwkv4");
  const auto& item = m["prompts"]["items"][1];  // dragons: 25 tokens
  const auto r = run_cli("logits" + rwkv4_flags() + " --text " + sh(item["text"]));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = json::parse(r.out);
  EXPECT_EQ(j["n_tokens"], item["ids"].size());
  EXPECT_EQ(j["argmax"], item["argmax"]);
  const NpyArray want = load_npy(golden("rwkv4/prompts/logits.npy"));
  const std::size_t V = static_cast<std::size_t>(want.shape[1]);
  EXPECT_TRUE(AllClose(j["logits"].get<std::vector<float>>().data(), want.data.data() + V, V, 2e-4));
  const auto both = run_cli("logits" + rwkv4_flags() + " --text hi --tokens 1");
  EXPECT_NE(both.exit_code, 0);
}

TEST(EmbedStatePooling, MatchesGoldenStateEmbedding) {
  const auto m = manifest("rwkv4");
  const NpyArray want = load_npy(golden("rwkv4/prompts/state_embedding.npy"));
  const double tol = m["tolerances"]["fp32_compute"]["state_embedding"]["max_abs"];
  TempDir tmp;
  std::ofstream in(tmp.path() / "in.jsonl");
  const auto& items = m["prompts"]["items"];
  for (const auto& it : items) in << json{{"text", it["text"]}}.dump() << "\n";
  in << json{{"tokens", items[1]["ids"]}}.dump() << "\n";  // ids are used as given
  in.close();
  const std::string base =
      "embed --pooling state" + rwkv4_flags() + " --input " + sh((tmp.path() / "in.jsonl").string());
  const auto r = run_cli(base + " --no-normalize --batch-tokens 40");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::vector<json> out;
  for (std::string line; std::getline(lines, line);) out.push_back(json::parse(line));
  ASSERT_EQ(out.size(), items.size() + 1);
  const std::size_t C = static_cast<std::size_t>(want.shape[1]);
  for (std::size_t i = 0; i < items.size(); ++i) {
    SCOPED_TRACE(items[i]["name"].get<std::string>());
    EXPECT_EQ(out[i]["index"], i);
    EXPECT_EQ(out[i]["tokens"], items[i]["ids"].size());
    const auto v = out[i]["embedding"].get<std::vector<float>>();
    EXPECT_TRUE(AllClose(v.data(), want.data.data() + i * C, C, tol));
  }
  EXPECT_EQ(out.back()["embedding"], out[1]["embedding"]);
  // Default: L2-normalised.
  const auto n = run_cli(base);
  ASSERT_EQ(n.exit_code, 0) << n.err;
  const auto v = json::parse(n.out.substr(0, n.out.find('\n')))["embedding"].get<std::vector<double>>();
  double norm = 0;
  for (double x : v) norm += x * x;
  EXPECT_NEAR(norm, 1.0, 1e-5);
}

TEST(EmbedStatePooling, ErrorsForModelsWithoutTheState) {
  auto r = run_cli("embed --pooling state --model " + sh(golden("emb-model.bf16.pth").string()) + " hi");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("RWKV-4"), std::string::npos) << r.err;
  r = run_cli("embed --pooling state --model " + sh(golden("x070-lm/rwkv7-lm-random.bf16.pth").string()) +
              " hi");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("x070-lm"), std::string::npos) << r.err;
  r = run_cli("embed --pooling state --task sts" + rwkv4_flags() + " hi");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--task"), std::string::npos) << r.err;
  r = run_cli("embed --pooling mean" + rwkv4_flags() + " hi");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--pooling"), std::string::npos) << r.err;
  r = run_cli("embed --pooling state" + rwkv4_flags() + " ''");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no tokens"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace rwkv::test

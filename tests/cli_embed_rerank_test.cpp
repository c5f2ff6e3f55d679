// Black-box tests of `rwkv embed`, `rwkv rerank`, `rwkv synth` and `rwkv demo` on the golden models:
// the CLI prints the golden numbers, keeps input order, caches offline states, and fails clearly.
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "golden_fixture.h"

namespace rwkv::test {
namespace {

std::vector<nlohmann::json> lines_of(const std::string& out) {
  std::vector<nlohmann::json> v;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) v.push_back(nlohmann::json::parse(line));
  return v;
}

// Shell-quoted path. (Built with += : GCC 12 warns falsely on "'" + s + "'" under -Wrestrict.)
std::string q(const std::filesystem::path& p) {
  std::string s(1, '\'');
  s += p.string();
  s += '\'';
  return s;
}
std::string vocab_flag() {
  return " --vocab " + q(vocab_path());
}

TEST(CliEmbed, TokensAndTextsGiveGoldenEmbeddingsInOrder) {
  const auto& g = golden_models();
  TempDir tmp;
  const auto& items = g.manifest["embeddings"]["items"];
  std::ofstream in(tmp.path() / "in.jsonl");
  for (const auto& it : items) in << nlohmann::json{{"tokens", it["ids"]}}.dump() << "\n";
  in << nlohmann::json{{"text", items[0]["text"]}}.dump() << "\n";
  in.close();
  const NpyArray want = load_npy(golden("embeddings/emb_retr.npy"));
  const auto r = run_cli("embed --no-normalize --threads 2 --model " + q(golden("emb-model.bf16.pth")) +
                         vocab_flag() + " --input " + q(tmp.path() / "in.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), items.size() + 1);
  for (std::size_t i = 0; i < items.size(); ++i) {
    EXPECT_EQ(lines[i]["index"], i);
    EXPECT_EQ(lines[i]["tokens"], items[i]["ids"].size());
    EXPECT_TRUE(AllClose(lines[i]["embedding"].get<std::vector<float>>(), row_of(want, i), 1e-4)) << i;
  }
  // The text "Hello world" tokenises + EOS to the ids of item 0.
  EXPECT_EQ(lines.back()["embedding"], lines[0]["embedding"]);
  // Other heads, and the default L2 normalisation.
  const auto sts = run_cli("embed --no-normalize --task sts --model " + q(golden("emb-model.fp32.pth")) +
                           vocab_flag() + " 'Hello world'");
  ASSERT_EQ(sts.exit_code, 0) << sts.err;
  EXPECT_TRUE(AllClose(lines_of(sts.out)[0]["embedding"].get<std::vector<float>>(),
                       row_of(load_npy(golden("embeddings/emb_sts.npy")), 0), 1e-4));
  const auto norm =
      run_cli("embed --model " + q(golden("emb-model.bf16.pth")) + vocab_flag() + " 'Hello world'");
  ASSERT_EQ(norm.exit_code, 0) << norm.err;
  double ss = 0;
  for (float x : lines_of(norm.out)[0]["embedding"].get<std::vector<float>>()) ss += double(x) * x;
  EXPECT_NEAR(ss, 1.0, 1e-5);
}

TEST(CliEmbed, ErrorsAreClearAndNonZero) {
  TempDir tmp;
  const std::string model = " --model " + q(golden("emb-model.bf16.pth"));
  std::ofstream(tmp.path() / "noeos.jsonl") << "{\"tokens\": [1, 2, 3]}\n";
  auto r = run_cli("embed" + model + " --input " + q(tmp.path() / "noeos.jsonl"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("line 1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no EOS"), std::string::npos) << r.err;
  std::ofstream(tmp.path() / "big.jsonl") << "{\"tokens\": [1, 70000, 65535]}\n";
  r = run_cli("embed" + model + " --input " + q(tmp.path() / "big.jsonl"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("token id 70000"), std::string::npos) << r.err;
  std::ofstream(tmp.path() / "bad.jsonl") << "{\"text\": \"ok\"}\n{oops\n";
  r = run_cli("embed" + model + vocab_flag() + " --input " + q(tmp.path() / "bad.jsonl"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("line 2"), std::string::npos) << r.err;
  // Outputs answer inputs line by line: a blank line is an error, a CRLF line end is not.
  std::ofstream(tmp.path() / "blank.jsonl") << "{\"text\": \"ok\"}\r\n\r\n{\"text\": \"b\"}\n";
  r = run_cli("embed" + model + vocab_flag() + " --input " + q(tmp.path() / "blank.jsonl"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("line 2: blank line"), std::string::npos) << r.err;
  std::ofstream(tmp.path() / "crlf.jsonl") << "{\"text\": \"ok\"}\r\n{\"text\": \"b\"}\r\n";
  r = run_cli("embed" + model + vocab_flag() + " --input " + q(tmp.path() / "crlf.jsonl"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(lines_of(r.out).size(), 2u);
  r = run_cli("embed" + model + vocab_flag());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no inputs"), std::string::npos) << r.err;
  r = run_cli("embed --model " + q(golden("reranker-a.bf16.pth")) + vocab_flag() + " hi");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("rwkv.blocks."), std::string::npos) << r.err;
}

TEST(CliEmbed, MissingTensorIsNamed) {
  TempDir tmp;
  // Rewrite the golden model without one tensor, with the project's own synth of the same shape.
  const auto out = tmp.path() / "m.safetensors";
  auto r = run_cli("synth --kind x070-embedding --layers 2 --embd 128 --vocab 1000 --out " + q(out));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Corrupt the name of one tensor in the header (same length, so the file stays valid).
  std::fstream f(out, std::ios::in | std::ios::out | std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const auto at = bytes.find("rwkv.blocks.1.att.key.weight");
  ASSERT_NE(at, std::string::npos);
  f.seekp(static_cast<std::streamoff>(at + 19));
  f.write("kez", 3);
  f.close();
  r = run_cli("embed --model " + q(out) + " --input /dev/null");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("rwkv.blocks.1.att.key.weight"), std::string::npos) << r.err;
}

TEST(CliRerank, OnlineEqualsOfflineAndCacheIsReused) {
  TempDir tmp;
  const auto& rr = golden_models().manifest["rerank"];
  std::ofstream in(tmp.path() / "docs.jsonl");
  for (const auto& d : rr["documents"]) in << nlohmann::json{{"text", d}}.dump() << "\n";
  in.close();
  const std::string base = "rerank --model " + q(golden("emb-model.bf16.pth")) + " --reranker " +
                           q(golden("reranker-b.bf16.safetensors")) + vocab_flag() + " --query '" +
                           rr["query"].get<std::string>() + "' --input " + q(tmp.path() / "docs.jsonl");
  const auto online = run_cli(base);
  ASSERT_EQ(online.exit_code, 0) << online.err;
  const auto cache = tmp.path() / "cache";
  const auto off1 = run_cli(base + " --mode offline --state-cache " + q(cache));
  ASSERT_EQ(off1.exit_code, 0) << off1.err;
  std::size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(cache)) files += e.path().extension() == ".state";
  EXPECT_EQ(files, rr["documents"].size());
  const auto off2 = run_cli(base + " --mode offline --state-cache " + q(cache));
  ASSERT_EQ(off2.exit_code, 0) << off2.err;
  EXPECT_EQ(off1.out, online.out);
  EXPECT_EQ(off2.out, online.out);
  // Sorted best first; logits equal the golden ones for reranker B (online unpadded).
  const auto lines = lines_of(online.out);
  const auto want = load_npy(golden("rerank/reranker-b_online_unpadded_logits.npy")).data;
  ASSERT_EQ(lines.size(), want.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) {
      EXPECT_GE(lines[i - 1]["score"].get<double>(), lines[i]["score"].get<double>());
    }
    EXPECT_NEAR(lines[i]["logit"].get<double>(), want[lines[i]["index"].get<std::size_t>()], 1e-4);
  }
  const auto top = run_cli(base + " --top-n 2");
  EXPECT_EQ(lines_of(top.out).size(), 2u);
  // Another model sharing the cache directory keys its entries by its own fingerprint.
  const auto other = tmp.path() / "other.safetensors";
  ASSERT_EQ(run_cli("synth --kind x070-embedding --layers 2 --embd 128 --seed 9 --out " + q(other)).exit_code,
            0);
  const auto foreign =
      run_cli("rerank --model " + q(other) + " --reranker " + q(golden("reranker-b.bf16.pth")) +
              vocab_flag() + " --query q --mode offline --state-cache " + q(cache) + " doc");
  EXPECT_EQ(foreign.exit_code, 0) << foreign.err;
  files = 0;
  for (const auto& e : std::filesystem::directory_iterator(cache)) files += e.path().extension() == ".state";
  EXPECT_EQ(files, rr["documents"].size() + 1);
}

TEST(CliRerank, OneBlockRerankerAndWidthMismatch) {
  TempDir tmp;
  const auto one = tmp.path() / "one.pth";
  ASSERT_EQ(
      run_cli("synth --kind x070-reranker --layers 1 --embd 128 --dtype fp32 --out " + q(one)).exit_code, 0);
  const std::string model = " --model " + q(golden("emb-model.bf16.pth")) + vocab_flag();
  auto r = run_cli("rerank" + model + " --reranker " + q(one) + " --query q 'doc a' 'doc b'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(lines_of(r.out).size(), 2u);
  const auto wide = tmp.path() / "wide.safetensors";
  ASSERT_EQ(run_cli("synth --kind x070-reranker --layers 1 --embd 192 --out " + q(wide)).exit_code, 0);
  r = run_cli("rerank" + model + " --reranker " + q(wide) + " --query q doc");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("does not match the embedding model"), std::string::npos) << r.err;
  r = run_cli("rerank" + model + " --reranker " + q(one) + " --query q --mode sideways doc");
  EXPECT_EQ(r.exit_code, 1);
}

TEST(CliDemo, RunsOfflineOnASmallSyntheticModel) {
  TempDir tmp;
  const auto r = run_cli("demo --layers 2 --embd 128 --dir " + q(tmp.path()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["rerank"]["offline_vs_online_max_logit_diff"].get<double>(), 0.0);
  EXPECT_EQ(j["embed"]["cosine_matrix"].size(), 4u);
  EXPECT_NE(j["note"].get<std::string>().find("RANDOM WEIGHTS"), std::string::npos);
}

}  // namespace
}  // namespace rwkv::test

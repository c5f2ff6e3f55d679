// Tokenizer benchmarks. World: encode throughput (bytes/s) of the double-array trie on generated mixed
// English/code/CJK text, against two straightforward references (a node-per-byte pointer trie with
// std::map children, the shape of ChatRWKV's Python TRIE_TOKENIZER, and a hash map tried at every token
// length), plus decode and vocab load. The *VocabPieces variants encode random vocab entries instead,
// which defeats the cache and is the slow case. GPT-NeoX-20B (BM_Neox*): encode of the same mixed text
// (warm BPE word cache, and with a fresh tokenizer per iteration), of text whose words are all distinct
// (every word misses the cache), decode, and tokenizer.json load.
//
// The vocab is taken from $RWKV_VOCAB, else from ../shared/vocab/ beside the source tree (located via
// this file's __FILE__ path, so no build-system setting is needed), else the usual per-user data dir;
// 20B_tokenizer.json likewise from $RWKV_TOKENIZER_20B, ../shared/vocab/, or the per-user data dir.
#include <algorithm>
#include <array>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <benchmark/benchmark.h>

#include "tokenizer/neox_tokenizer.h"
#include "tokenizer/tokenizer_select.h"
#include "tokenizer/world_tokenizer.h"

namespace {

using rwkv::TokenId;
using rwkv::WorldTokenizer;

std::filesystem::path bench_vocab() {
  if (const char* v = std::getenv("RWKV_VOCAB"); v && *v) return v;
  const auto beside = std::filesystem::path(__FILE__).parent_path() / ".." / ".." / "shared" / "vocab" /
                      "rwkv_vocab_v20230424.txt";
  if (std::filesystem::exists(beside)) return beside;
  return rwkv::find_world_vocab(std::nullopt, std::nullopt);
}

std::filesystem::path bench_neox_file() {
  if (const char* v = std::getenv("RWKV_TOKENIZER_20B"); v && *v) return v;
  const auto beside =
      std::filesystem::path(__FILE__).parent_path() / ".." / ".." / "shared" / "vocab" / "20B_tokenizer.json";
  if (std::filesystem::exists(beside)) return beside;
  return rwkv::find_neox_tokenizer(std::nullopt, std::nullopt);
}

const rwkv::NeoxTokenizer& neox() {
  static const std::unique_ptr<rwkv::NeoxTokenizer> tok = rwkv::NeoxTokenizer::load(bench_neox_file());
  return *tok;
}

const WorldTokenizer& tokenizer() {
  static const WorldTokenizer tok = WorldTokenizer::load(bench_vocab());
  return tok;
}

// About `n` bytes of text: random picks from English prose, source code and CJK snippets (roughly
// 45% / 35% / 20% of the picks), joined by spaces and newlines.
std::string mixed_text(std::size_t n) {
  static const std::array<const char*, 8> english{
      "The quick brown fox jumps over the lazy dog. ",
      "RWKV is an RNN with transformer-level performance, and it can be trained in parallel. ",
      "In 2023, researchers released a World tokenizer with 65,536 entries covering many languages. ",
      "Please summarize the following document in three sentences, keeping the key numbers. ",
      "She said: \"It's not what you think!\" and left the room without another word. ",
      "Retrieval-augmented generation combines a search index with a language model. ",
      "Tokenization splits text into pieces; greedy longest match is simple and fast. ",
      "The meeting was moved to Thursday at 3:30 PM because of the holiday schedule. "};
  static const std::array<const char*, 6> code{
      "def forward(self, x, state):\n    x = self.ln1(x)\n    return self.att(x, state)\n",
      "for (std::size_t i = 0; i < n; ++i) {\n  out[i] = a[i] * b[i] + c;\n}\n",
      "#include <vector>\nint main(int argc, char** argv) { return argc > 1 ? 0 : 1; }\n",
      "const result = await fetch(`${base}/api/v1/items?id=${id}`);\nconsole.log(result.status);\n",
      "SELECT name, COUNT(*) FROM users WHERE created_at > '2023-01-01' GROUP BY name;\n",
      "    if err != nil {\n        return nil, fmt.Errorf(\"open %s: %w\", path, err)\n    }\n"};
  static const std::array<const char*, 6> cjk{
      "今天天气很好，我们去公园散步吧。",       "机器学习模型需要大量的训练数据。",
      "日本語のテキスト、カタカナとひらがな。", "한국어 텍스트입니다. 감사합니다.",
      "这个分词器使用贪心最长匹配算法。",       "東京は日本の首都で、人口が多い都市です。"};
  std::mt19937 rng(42);
  std::string s;
  while (s.size() < n) {
    const unsigned r = rng() % 20;
    if (r < 9) {
      s += english[rng() % english.size()];
    } else if (r < 16) {
      s += code[rng() % code.size()];
    } else {
      s += cjk[rng() % cjk.size()];
      s += rng() % 2 ? "\n" : " ";
    }
  }
  return s;
}

const std::string& bench_text() {
  static const std::string text = mixed_text(4 << 20);
  return text;
}

// A cache-hostile input: 4 MB of uniformly random vocab entries, so the walk touches the whole trie.
const std::string& vocab_pieces_text() {
  static const std::string text = [] {
    std::mt19937 rng(7);
    std::string s;
    while (s.size() < (4u << 20))
      s += tokenizer().token_bytes(static_cast<TokenId>(1 + rng() % tokenizer().vocab_size()));
    return s;
  }();
  return text;
}

// Reference 1: one heap node per byte, children in a std::map (the Python TRIE_TOKENIZER's shape).
class PointerTrie {
 public:
  explicit PointerTrie(const WorldTokenizer& tok) {
    for (TokenId id = 1; static_cast<std::size_t>(id) <= tok.vocab_size(); ++id) {
      Node* n = &root_;
      for (char c : tok.token_bytes(id)) {
        auto& child = n->children[static_cast<unsigned char>(c)];
        if (!child) child = std::make_unique<Node>();
        n = child.get();
      }
      n->id = id;
    }
  }
  void encode(std::string_view s, std::vector<TokenId>& out) const {
    std::size_t p = 0;
    while (p < s.size()) {
      const Node* n = &root_;
      TokenId best = -1;
      std::size_t best_len = 0;
      for (std::size_t q = p; q < s.size(); ++q) {
        auto it = n->children.find(static_cast<unsigned char>(s[q]));
        if (it == n->children.end()) break;
        n = it->second.get();
        if (n->id >= 0) best = n->id, best_len = q - p + 1;
      }
      out.push_back(best);
      p += best_len;
    }
  }

 private:
  struct Node {
    std::map<unsigned char, std::unique_ptr<Node>> children;
    TokenId id = -1;
  };
  Node root_;
};

// Reference 2: a hash map of all tokens, probing every length from the longest down.
class HashGreedy {
 public:
  explicit HashGreedy(const WorldTokenizer& tok) : max_len_(tok.max_token_length()) {
    for (TokenId id = 1; static_cast<std::size_t>(id) <= tok.vocab_size(); ++id)
      map_.emplace(tok.token_bytes(id), id);
  }
  void encode(std::string_view s, std::vector<TokenId>& out) const {
    std::size_t p = 0;
    while (p < s.size()) {
      for (std::size_t len = std::min(max_len_, s.size() - p); len > 0; --len) {
        auto it = map_.find(s.substr(p, len));
        if (it != map_.end()) {
          out.push_back(it->second);
          p += len;
          break;
        }
      }
    }
  }

 private:
  std::unordered_map<std::string_view, TokenId> map_;
  std::size_t max_len_;
};

template <typename Encoder>
void run_encode(benchmark::State& state, const Encoder& enc, const std::string& text = bench_text()) {
  std::vector<TokenId> ids;
  for (auto _ : state) {
    ids.clear();
    enc.encode(text, ids);
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
  state.counters["bytes_per_token"] = static_cast<double>(text.size()) / static_cast<double>(ids.size());
}

void BM_EncodeDoubleArray(benchmark::State& state) {
  run_encode(state, tokenizer());
}

void BM_EncodeDoubleArrayVocabPieces(benchmark::State& state) {
  run_encode(state, tokenizer(), vocab_pieces_text());
}

void BM_EncodeRefPointerTrie(benchmark::State& state) {
  static const PointerTrie trie(tokenizer());
  run_encode(state, trie);
}

void BM_EncodeRefPointerTrieVocabPieces(benchmark::State& state) {
  static const PointerTrie trie(tokenizer());
  run_encode(state, trie, vocab_pieces_text());
}

void BM_EncodeRefHashGreedy(benchmark::State& state) {
  static const HashGreedy hash(tokenizer());
  run_encode(state, hash);
}

void BM_Decode(benchmark::State& state) {
  const std::vector<TokenId> ids = tokenizer().encode(bench_text());
  for (auto _ : state) benchmark::DoNotOptimize(tokenizer().decode_bytes(ids));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bench_text().size()));
}

void BM_LoadVocab(benchmark::State& state) {
  const auto path = bench_vocab();
  for (auto _ : state) benchmark::DoNotOptimize(WorldTokenizer::load(path).vocab_size());
}

// About 4 MB of distinct pseudo-words (random letters, digits and CJK, space-separated): every word
// misses the NeoX BPE cache, so this measures the merge loop itself.
const std::string& distinct_words_text() {
  static const std::string text = [] {
    std::mt19937 rng(11);
    static const char* const cjk[] = {"\u65e5", "\u672c", "\u8a9e", "\u4e2d", "\u6587", "\u5b57"};
    std::string s;
    while (s.size() < (4u << 20)) {
      s += ' ';
      const unsigned kind = rng() % 10, len = 2 + rng() % 9;
      for (unsigned i = 0; i < len; ++i) {
        if (kind < 7) {
          s.push_back(static_cast<char>('a' + rng() % 26));
        } else if (kind < 9) {
          s.push_back(static_cast<char>('0' + rng() % 10));
        } else {
          s += cjk[rng() % 6];
        }
      }
    }
    return s;
  }();
  return text;
}

void run_neox_encode(benchmark::State& state, const std::string& text) {
  std::vector<TokenId> ids;
  for (auto _ : state) {
    ids.clear();
    neox().encode(text, ids);
    benchmark::DoNotOptimize(ids.data());
  }
  const std::size_t n = ids.size();
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
  state.counters["bytes_per_token"] = static_cast<double>(text.size()) / static_cast<double>(n);
}

void BM_NeoxEncode(benchmark::State& state) {
  run_neox_encode(state, bench_text());
}

void BM_NeoxEncodeDistinctWords(benchmark::State& state) {
  run_neox_encode(state, distinct_words_text());
}

// A fresh tokenizer (empty word cache) for each 1 MB of text; the load is not timed.
void BM_NeoxEncodeColdCache(benchmark::State& state) {
  const std::string text = bench_text().substr(0, 1 << 20);
  for (auto _ : state) {
    state.PauseTiming();
    auto tok = rwkv::NeoxTokenizer::load(bench_neox_file());
    state.ResumeTiming();
    benchmark::DoNotOptimize(tok->encode(text).data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}

void BM_NeoxDecode(benchmark::State& state) {
  const std::vector<TokenId> ids = neox().encode(bench_text());
  for (auto _ : state) benchmark::DoNotOptimize(neox().decode_bytes(ids));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bench_text().size()));
}

void BM_NeoxLoad(benchmark::State& state) {
  const auto path = bench_neox_file();
  for (auto _ : state) benchmark::DoNotOptimize(rwkv::NeoxTokenizer::load(path)->vocab_size());
}

BENCHMARK(BM_EncodeDoubleArray)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeRefPointerTrie)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeDoubleArrayVocabPieces)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeRefPointerTrieVocabPieces)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeRefHashGreedy)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Decode)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LoadVocab)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_NeoxEncode)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_NeoxEncodeDistinctWords)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_NeoxEncodeColdCache)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_NeoxDecode)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_NeoxLoad)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();

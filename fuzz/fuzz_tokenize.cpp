// Fuzz target: encode arbitrary bytes with a small built-in vocab (all 256 single bytes plus a few dozen
// overlapping multi-byte tokens) and check decode(encode(x)) == x, agreement with a naive greedy
// reference, and stability when splitting at a produced token boundary. abort() on any mismatch.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/world_tokenizer.h"

namespace {

constexpr const char* kExtraTokens[] = {"th",
                                        "the",
                                        " the",
                                        "he",
                                        "hell",
                                        "hello",
                                        "hello world",
                                        "ab",
                                        "abc",
                                        "abcd",
                                        "abcde",
                                        "bc",
                                        "bcd",
                                        "  ",
                                        "   ",
                                        "    ",
                                        "        ",
                                        "\n\n",
                                        "\n\n\n",
                                        "\r\n",
                                        "\t\t",
                                        "aa",
                                        "aaaa",
                                        "aaaaaaaa",
                                        "in",
                                        "ing",
                                        " in",
                                        "\xe4\xb8",
                                        "\xe4\xb8\xad",
                                        "\xe4\xb8\xad\xe6\x96\x87",
                                        "\xf0\x9f",
                                        "\xf0\x9f\xa6\x86",
                                        "\xff\xff",
                                        "<|",
                                        "<|endoftext|>",
                                        "|>"};

std::string hex_literal(std::string_view s) {
  std::string lit = "b'";
  for (char c : s) {
    lit += "\\x";
    lit.push_back("0123456789abcdef"[static_cast<unsigned char>(c) >> 4]);
    lit.push_back("0123456789abcdef"[static_cast<unsigned char>(c) & 15]);
  }
  return lit + "'";
}

struct Fixture {
  rwkv::WorldTokenizer tok;
  std::map<std::string, rwkv::TokenId, std::less<>> by_bytes;  // for the reference encoder
};

Fixture make_fixture() {
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) tokens.emplace_back(1, static_cast<char>(b));
  for (const char* t : kExtraTokens) tokens.emplace_back(t);
  tokens.emplace_back(std::string("\0\0", 2));  // NULs inside a token
  std::string vocab;
  for (std::size_t i = 0; i < tokens.size(); ++i)
    vocab +=
        std::to_string(i + 1) + " " + hex_literal(tokens[i]) + " " + std::to_string(tokens[i].size()) + "\n";
  Fixture f{rwkv::WorldTokenizer::from_string(vocab, "builtin"), {}};
  for (std::size_t i = 0; i < tokens.size(); ++i)
    f.by_bytes.emplace(tokens[i], static_cast<rwkv::TokenId>(i + 1));
  return f;
}

std::vector<rwkv::TokenId> reference_encode(const Fixture& f, std::string_view s) {
  std::vector<rwkv::TokenId> out;
  std::size_t p = 0;
  while (p < s.size()) {
    for (std::size_t len = std::min<std::size_t>(s.size() - p, 16); len > 0; --len) {
      auto it = f.by_bytes.find(s.substr(p, len));
      if (it != f.by_bytes.end()) {
        out.push_back(it->second);
        p += len;
        break;
      }
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Fixture f = make_fixture();
  const std::string_view x(reinterpret_cast<const char*>(data), size);
  const std::vector<rwkv::TokenId> ids = f.tok.encode(x);
  if (f.tok.decode_bytes(ids) != x) std::abort();
  if (ids != reference_encode(f, x)) std::abort();
  if (!ids.empty()) {
    // Split after the token picked by the first byte of input, modulo the token count.
    const std::size_t k = data[0] % ids.size();
    std::size_t cut = 0;
    for (std::size_t i = 0; i < k; ++i) cut += f.tok.token_bytes(ids[i]).size();
    std::vector<rwkv::TokenId> joined = f.tok.encode(x.substr(0, cut));
    f.tok.encode(x.substr(cut), joined);
    if (joined != ids) std::abort();
  }
  const std::string repaired = rwkv::to_valid_utf8(x, true);
  if (rwkv::find_invalid_utf8(repaired) != std::string_view::npos) std::abort();
  if (rwkv::utf8_complete_prefix(x) > x.size()) std::abort();
  return 0;
}

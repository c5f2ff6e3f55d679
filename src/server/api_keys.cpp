// API key file parsing and Bearer header checks for `rwkv serve`.
#include "server/api_keys.h"

#include <fstream>

#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv::server {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

// Compares without an early exit, so the time does not tell how long a matching prefix is.
bool same_bytes(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i]));
  return diff == 0;
}

}  // namespace

std::vector<std::string> read_api_key_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(str("--api-key-file ", path, ": cannot open the file"));
  std::vector<std::string> keys;
  std::string line;
  for (long n = 1; std::getline(in, line); ++n) {
    std::size_t b = 0, e = line.size();
    while (b < e && is_space(line[b])) ++b;
    while (e > b && is_space(line[e - 1])) --e;
    if (b == e) continue;
    const std::string_view key(line.data() + b, e - b);
    for (const char c : key) {
      const auto u = static_cast<unsigned char>(c);
      if (is_space(c) || u < 0x20 || u == 0x7f)
        throw Error(str("--api-key-file ", path, ", line ", n,
                        ": a key must not contain whitespace or control characters (one key per line)"));
    }
    keys.emplace_back(key);
  }
  if (in.bad()) throw Error(str("--api-key-file ", path, ": read error"));
  if (keys.empty()) throw Error(str("--api-key-file ", path, ": no key in the file (one key per line)"));
  return keys;
}

bool ApiKeys::accepts(std::string_view authorization) const {
  constexpr std::string_view prefix = "Bearer ";
  if (authorization.substr(0, prefix.size()) != prefix) return false;
  const std::string_view given = authorization.substr(prefix.size());
  bool ok = false;
  for (const auto& k : keys_) ok |= same_bytes(given, k);
  return ok;
}

}  // namespace rwkv::server

// API keys of `rwkv serve`: the keys given with --api-key and read from --api-key-file, and the check of an
// `Authorization: Bearer KEY` header against them. Keys never appear in messages or logs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rwkv::server {

// Reads one key per line from `path`. Surrounding whitespace (and a CR line end) is trimmed and blank
// lines are skipped. Throws rwkv::Error naming the file (and the line, never the key) if the file cannot
// be read, holds no key, or a key contains whitespace or control characters.
std::vector<std::string> read_api_key_file(const std::string& path);

class ApiKeys {
 public:
  explicit ApiKeys(std::vector<std::string> keys) : keys_(std::move(keys)) {}
  bool enabled() const { return !keys_.empty(); }
  // True if `authorization` is "Bearer KEY" for one of the keys. Each comparison takes the same time
  // whatever the position of the first differing byte.
  bool accepts(std::string_view authorization) const;

 private:
  std::vector<std::string> keys_;
};

}  // namespace rwkv::server

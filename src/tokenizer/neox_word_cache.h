// WordCache: the ids of BPE words already merged, shared by all threads without locks. A fixed table of
// slots, each empty or holding one immutable entry; an entry is published once (compare-and-swap into an
// empty slot near the word's hash) and never replaced, so readers need no lock and entries live until
// the cache is destroyed. When the slots near a word are taken, the word is simply not cached.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace rwkv::neox {

class WordCache {
 public:
  explicit WordCache(int log2_slots);
  ~WordCache();
  WordCache(const WordCache&) = delete;
  WordCache& operator=(const WordCache&) = delete;

  static std::uint64_t hash(std::string_view word);

  // Appends the cached ids of `word` to `out` and returns true; false if it is not cached.
  bool find(std::string_view word, std::uint64_t hash, std::vector<TokenId>& out) const;
  // Caches `ids` for `word` if a slot near its hash is free.
  void insert(std::string_view word, std::uint64_t hash, std::span<const TokenId> ids);

 private:
  struct Entry {
    std::uint64_t hash;
    std::string word;
    std::vector<TokenId> ids;
  };
  static constexpr std::size_t kProbes = 8;

  std::unique_ptr<std::atomic<Entry*>[]> slots_;
  std::size_t mask_;
};

}  // namespace rwkv::neox

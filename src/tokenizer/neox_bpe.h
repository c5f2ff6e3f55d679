// Byte-level BPE as HF `tokenizers` runs it (dropout off): a word starts as one symbol per byte; the
// adjacent pair with the lowest merge rank is merged (the leftmost one among equal ranks), again and again,
// until no adjacent pair has a merge. A priority queue keeps this O(n log n) for long words, and a bounded
// cache remembers the ids of words already seen.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/neox_word_cache.h"
#include "tokenizer/tokenizer.h"

namespace rwkv::neox {

struct BpeMerge {
  TokenId left, right;  // the pair, as token ids
  TokenId merged;       // the id of left's bytes + right's bytes
};

struct BpeTables {
  // The token of each single byte, or -1 if the vocab has none (20B has none for C0, C1 and F5..FF, which
  // valid UTF-8 never contains). Such a byte becomes `unk` if there is one (consecutive ones fused into
  // one with fuse_unk), and is dropped otherwise, as in HF.
  std::array<TokenId, 256> byte_ids{};
  TokenId unk = -1;
  bool fuse_unk = false;
  std::vector<BpeMerge> merges;  // rank = index; a later duplicate pair overrides an earlier one
  // Only with ignore_merges: whole words found here are one token, without merging.
  std::unordered_map<std::string, TokenId> words;
  bool ignore_merges = false;
};

class BpeModel {
 public:
  explicit BpeModel(BpeTables tables);
  BpeModel(const BpeModel&) = delete;
  BpeModel& operator=(const BpeModel&) = delete;

  // Appends the ids of one pre-tokenized piece (raw bytes) to `out`. Thread-safe.
  void encode_word(std::string_view bytes, std::vector<TokenId>& out) const;

 private:
  struct MergeValue {
    std::uint32_t rank;
    TokenId merged;
  };

  static std::uint64_t pair_key(TokenId a, TokenId b) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) | static_cast<std::uint32_t>(b);
  }
  const MergeValue* find_merge(TokenId a, TokenId b) const {
    const std::uint64_t key = pair_key(a, b);
    for (std::size_t slot = (key * 0x9E3779B97F4A7C15ull) >> shift_;; slot = (slot + 1) & mask_) {
      if (merge_keys_[slot] == key) return &merge_values_[slot];
      if (merge_keys_[slot] == kEmptyKey) return nullptr;
    }
  }
  void merge_word(std::string_view bytes, std::vector<TokenId>& out) const;

  std::array<TokenId, 256> byte_ids_;
  TokenId unk_;
  bool fuse_unk_;
  // The merge table: open addressing with linear probing, at most half full (a pair of ids never equals
  // kEmptyKey, since ids are below 2^31).
  static constexpr std::uint64_t kEmptyKey = ~std::uint64_t{0};
  std::vector<std::uint64_t> merge_keys_;
  std::vector<MergeValue> merge_values_;
  std::size_t mask_ = 0;
  int shift_ = 64;
  std::unordered_map<std::string, TokenId> words_;
  bool ignore_merges_;

  static constexpr std::size_t kMaxCachedWordBytes = 64;
  mutable WordCache cache_{16};  // 64k slots
};

}  // namespace rwkv::neox

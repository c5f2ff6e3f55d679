// WordCache (see neox_word_cache.h): acquire loads for readers, one compare-and-swap per insert.
#include "tokenizer/neox_word_cache.h"

namespace rwkv::neox {

WordCache::WordCache(int log2_slots)
    : slots_(new std::atomic<Entry*>[std::size_t{1} << log2_slots]),
      mask_((std::size_t{1} << log2_slots) - 1) {
  for (std::size_t i = 0; i <= mask_; ++i) slots_[i].store(nullptr, std::memory_order_relaxed);
}

WordCache::~WordCache() {
  for (std::size_t i = 0; i <= mask_; ++i) delete slots_[i].load(std::memory_order_relaxed);
}

std::uint64_t WordCache::hash(std::string_view word) {
  std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a: words are short
  for (char c : word) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  return h;
}

bool WordCache::find(std::string_view word, std::uint64_t hash, std::vector<TokenId>& out) const {
  for (std::size_t k = 0; k < kProbes; ++k) {
    const Entry* e = slots_[(hash + k) & mask_].load(std::memory_order_acquire);
    if (e == nullptr) return false;  // entries are never removed, so the word is not further on
    if (e->hash == hash && e->word == word) {
      out.insert(out.end(), e->ids.begin(), e->ids.end());
      return true;
    }
  }
  return false;
}

void WordCache::insert(std::string_view word, std::uint64_t hash, std::span<const TokenId> ids) {
  auto entry =
      std::make_unique<Entry>(Entry{hash, std::string(word), std::vector<TokenId>(ids.begin(), ids.end())});
  for (std::size_t k = 0; k < kProbes; ++k) {
    std::atomic<Entry*>& slot = slots_[(hash + k) & mask_];
    Entry* current = slot.load(std::memory_order_acquire);
    if (current == nullptr) {
      if (slot.compare_exchange_strong(current, entry.get(), std::memory_order_acq_rel)) {
        entry.release();
        return;
      }
      // Another thread filled the slot first; `current` is now its entry.
    }
    if (current->hash == hash && current->word == word) return;  // already cached
  }
}

}  // namespace rwkv::neox

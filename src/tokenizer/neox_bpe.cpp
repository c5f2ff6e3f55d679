// BPE merging (see neox_bpe.h). The queue holds candidate merges ordered by (rank, position); entries
// made stale by an earlier merge are recognised when popped (their left symbol is gone, or the pair at
// that position no longer merges to the same token) and skipped, which is exactly HF's procedure.
#include "tokenizer/neox_bpe.h"

#include <algorithm>

namespace rwkv::neox {

BpeModel::BpeModel(BpeTables tables)
    : byte_ids_(tables.byte_ids),
      unk_(tables.unk),
      fuse_unk_(tables.fuse_unk),
      words_(std::move(tables.words)),
      ignore_merges_(tables.ignore_merges) {
  int bits = 4;
  while ((std::size_t{1} << bits) < 2 * tables.merges.size()) ++bits;
  merge_keys_.assign(std::size_t{1} << bits, kEmptyKey);
  merge_values_.resize(merge_keys_.size());
  mask_ = merge_keys_.size() - 1;
  shift_ = 64 - bits;
  for (std::size_t rank = 0; rank < tables.merges.size(); ++rank) {
    const BpeMerge& m = tables.merges[rank];
    const std::uint64_t key = pair_key(m.left, m.right);
    std::size_t slot = (key * 0x9E3779B97F4A7C15ull) >> shift_;
    while (merge_keys_[slot] != kEmptyKey && merge_keys_[slot] != key) slot = (slot + 1) & mask_;
    merge_keys_[slot] = key;  // a repeated pair keeps its last rank, as in HF
    merge_values_[slot] = {static_cast<std::uint32_t>(rank), m.merged};
  }
}

void BpeModel::merge_word(std::string_view bytes, std::vector<TokenId>& out) const {
  struct Symbol {
    TokenId id;
    std::int32_t prev, next;  // neighbours in the current segmentation, -1 at the ends
    bool alive;               // false once merged into its left neighbour
  };
  struct Candidate {
    std::uint32_t rank;
    std::int32_t pos;  // index of the left symbol
    TokenId merged;
  };
  // Heap order: the top is the lowest rank, then the leftmost position.
  const auto after = [](const Candidate& a, const Candidate& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
  };
  thread_local std::vector<Symbol> symbols;
  thread_local std::vector<Candidate> queue;
  symbols.clear();
  queue.clear();
  for (char c : bytes) {
    TokenId id = byte_ids_[static_cast<unsigned char>(c)];
    if (id < 0) {
      if (unk_ < 0 || (fuse_unk_ && !symbols.empty() && symbols.back().id == unk_)) continue;
      id = unk_;
    }
    const auto i = static_cast<std::int32_t>(symbols.size());
    symbols.push_back({id, i - 1, -1, true});
    if (i > 0) symbols[i - 1].next = i;
  }
  if (symbols.empty()) return;
  const auto n = static_cast<std::int32_t>(symbols.size());

  const auto consider = [&](std::int32_t pos) {
    const std::int32_t next = symbols[pos].next;
    if (next < 0) return;
    if (const MergeValue* m = find_merge(symbols[pos].id, symbols[next].id)) {
      queue.push_back({m->rank, pos, m->merged});
      std::push_heap(queue.begin(), queue.end(), after);
    }
  };
  for (std::int32_t i = 0; i + 1 < n; ++i) consider(i);

  while (!queue.empty()) {
    std::pop_heap(queue.begin(), queue.end(), after);
    const Candidate c = queue.back();
    queue.pop_back();
    Symbol& left = symbols[c.pos];
    if (!left.alive || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    const MergeValue* m = find_merge(left.id, right.id);
    if (m == nullptr || m->merged != c.merged) continue;
    left.id = c.merged;
    right.alive = false;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = c.pos;
    if (left.prev >= 0) consider(left.prev);
    consider(c.pos);
  }
  for (std::int32_t i = 0; i >= 0; i = symbols[i].next) out.push_back(symbols[i].id);
}

void BpeModel::encode_word(std::string_view bytes, std::vector<TokenId>& out) const {
  if (bytes.empty()) return;
  if (bytes.size() == 1 && byte_ids_[static_cast<unsigned char>(bytes[0])] >= 0) {
    out.push_back(byte_ids_[static_cast<unsigned char>(bytes[0])]);
    return;
  }
  if (ignore_merges_) {
    if (const auto it = words_.find(std::string(bytes)); it != words_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  const bool cacheable = bytes.size() <= kMaxCachedWordBytes;
  const std::uint64_t hash = cacheable ? WordCache::hash(bytes) : 0;
  if (cacheable && cache_.find(bytes, hash, out)) return;
  const std::size_t first = out.size();
  merge_word(bytes, out);
  if (cacheable) cache_.insert(bytes, hash, std::span<const TokenId>(out.data() + first, out.size() - first));
}

}  // namespace rwkv::neox

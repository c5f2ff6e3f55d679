// Double-array trie construction and the greedy longest-match loop (see world_trie.h).
// Construction is breadth-first over the sorted keys, so shallow (hot) nodes sit near the start of the
// array; each node's children are placed at the first base where all their cells are free.
#include "tokenizer/world_trie.h"

#include <algorithm>

#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv::world {
namespace {

struct Pending {
  std::int32_t node;     // cell of this trie node
  std::uint32_t lo, hi;  // range of sorted keys sharing this node's prefix
  std::uint32_t depth;   // prefix length
};

}  // namespace

void DoubleArrayTrie::build(const std::vector<std::string>& keys) {
  std::vector<std::uint32_t> order;
  for (std::size_t id = 0; id < keys.size(); ++id) {
    if (!keys[id].empty()) order.push_back(static_cast<std::uint32_t>(id));
  }
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) { return keys[a] < keys[b]; });
  for (std::size_t i = 1; i < order.size(); ++i) {
    if (keys[order[i]] == keys[order[i - 1]])
      throw Error(str("tokenizer: ids ", order[i - 1], " and ", order[i], " have the same bytes"));
  }

  cells_.assign(512, Cell{});
  std::vector<std::uint8_t> used(cells_.size(), 0);
  // next_free[i] leads (with path compression) to the first free cell at or after i, so the base search
  // skips the densely used part of the array in near-constant time.
  std::vector<std::uint32_t> next_free(cells_.size());
  for (std::size_t i = 0; i < next_free.size(); ++i) next_free[i] = static_cast<std::uint32_t>(i);
  auto grow = [&](std::size_t need) {
    if (need <= cells_.size()) return;
    const std::size_t old = cells_.size(), size = std::max(need, old * 2);
    cells_.resize(size, Cell{});
    used.resize(size, 0);
    next_free.resize(size);
    for (std::size_t i = old; i < size; ++i) next_free[i] = static_cast<std::uint32_t>(i);
  };
  auto find_free = [&](std::size_t i) {
    std::size_t root = i;
    while (next_free[root] != root) root = next_free[root];
    while (next_free[i] != root) {
      const std::size_t up = next_free[i];
      next_free[i] = static_cast<std::uint32_t>(root);
      i = up;
    }
    return root;
  };
  auto mark_used = [&](std::size_t i) {
    used[i] = 1;
    next_free[i] = static_cast<std::uint32_t>(i + 1);  // i + 1 < size: grow() keeps 257 spare cells
  };
  mark_used(0);  // the root

  std::vector<Pending> queue{{0, 0, static_cast<std::uint32_t>(order.size()), 0}};
  std::vector<std::uint8_t> labels;
  std::vector<std::uint32_t> starts;
  std::size_t max_base = 0, wide_from = 0;
  for (std::size_t head = 0; head < queue.size(); ++head) {
    const Pending cur = queue[head];
    std::uint32_t lo = cur.lo;
    if (lo < cur.hi &&
        keys[order[lo]].size() == cur.depth) {  // a key ends here (sorted first: it prefixes the rest)
      cells_[cur.node].value = static_cast<std::int32_t>(order[lo]);
      ++lo;
    }
    labels.clear();
    starts.clear();
    for (std::uint32_t i = lo; i < cur.hi; ++i) {
      const auto c = static_cast<std::uint8_t>(keys[order[i]][cur.depth]);
      if (labels.empty() || labels.back() != c) labels.push_back(c), starts.push_back(i);
    }
    if (labels.empty()) continue;  // leaf: base stays 0, and no cell has this node as its parent
    starts.push_back(cur.hi);

    // First fit. A node with one child takes the first free cell (filling holes left by others); nodes
    // with several children start at wide_from, which follows the densely filled frontier so they do not
    // retry the same holes again and again.
    std::size_t pos = labels.size() == 1 ? labels[0] : std::max<std::size_t>(labels[0], wide_from);
    std::size_t tries = 0;
    for (;; ++pos, ++tries) {
      grow(pos + 258);
      pos = find_free(pos);
      grow(pos + 258);
      const std::size_t b = pos - labels[0];
      bool fits = true;
      for (std::size_t k = 1; k < labels.size() && fits; ++k) fits = !used[b + labels[k]];
      if (fits) break;
    }
    if (tries > 32) wide_from = pos > 256 ? pos - 256 : 0;
    const std::size_t base = pos - labels[0];
    max_base = std::max(max_base, base);
    cells_[cur.node].base = static_cast<std::int32_t>(base);
    for (std::size_t k = 0; k < labels.size(); ++k) {
      const std::size_t t = base + labels[k];
      mark_used(t);
      cells_[t].check = cur.node;
      queue.push_back({static_cast<std::int32_t>(t), starts[k], starts[k + 1], cur.depth + 1});
    }
  }
  // Every transition base + byte must stay inside the array without a bounds check.
  cells_.resize(max_base + 256);

  for (int c = 0; c < 256; ++c) {
    const Cell& child = cells_[static_cast<std::size_t>(cells_[0].base + c)];
    if (child.check != 0 || child.value < 0)
      throw Error(str("tokenizer: no token for the single byte ", c, "; every byte needs one"));
  }
}

void DoubleArrayTrie::encode(std::string_view bytes, std::vector<std::int32_t>& out) const {
  const Cell* cells = cells_.data();
  const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
  const auto* const end = p + bytes.size();
  // Typical text averages 3-4 bytes per token. Grow geometrically so repeated appends stay linear.
  const std::size_t guess = bytes.size() / 3 + 1;
  if (out.capacity() - out.size() < guess) out.reserve(std::max(out.size() + guess, out.capacity() * 2));
  while (p < end) {
    // The first byte always matches (every byte is a token), so start one step in.
    std::int32_t s = cells[0].base + *p;
    std::int32_t best = cells[s].value;
    const std::uint8_t* q = p + 1;
    const std::uint8_t* best_end = q;
    while (q < end) {
      const std::int32_t t = cells[s].base + *q;
      if (cells[t].check != s) break;
      s = t;
      ++q;
      if (cells[s].value >= 0) best = cells[s].value, best_end = q;
    }
    out.push_back(best);
    p = best_end;
  }
}

}  // namespace rwkv::world

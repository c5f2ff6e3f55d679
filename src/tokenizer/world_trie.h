// DoubleArrayTrie: a flat double-array trie over byte strings, used for greedy longest-match
// tokenization. One contiguous array of cells, no per-node allocation: a transition from node s on byte c
// goes to cell base[s] + c and is valid when that cell's check equals s.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rwkv::world {

class DoubleArrayTrie {
 public:
  // keys[id] are the byte strings to index (ids with an empty key are skipped). Keys must be unique, and
  // every single byte must be a key so that encoding always advances; throws rwkv::Error otherwise.
  void build(const std::vector<std::string>& keys);

  // Greedy longest match over `bytes`: appends the id of the longest key that prefixes the rest of the
  // input, then advances past it.
  void encode(std::string_view bytes, std::vector<std::int32_t>& out) const;

  std::size_t cell_count() const { return cells_.size(); }

 private:
  struct Cell {
    std::int32_t base = 0;    // children of this node live at base + byte
    std::int32_t check = -1;  // parent node index; -1 for free cells and the root
    std::int32_t value = -1;  // key id ending at this node, or -1
  };
  std::vector<Cell> cells_;
};

}  // namespace rwkv::world

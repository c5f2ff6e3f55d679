#include "model/chunking.h"

#include <algorithm>
#include <numeric>

#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv {

void check_sequence(std::size_t index, std::span<const TokenId> tokens, int vocab,
                    std::span<const int> output_positions) {
  for (std::size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] < 0 || tokens[i] >= vocab)
      throw Error(str("sequence ", index, ": token id ", tokens[i], " at position ", i,
                      " is outside the vocabulary (size ", vocab, ")"));
  int prev = -1;
  for (int p : output_positions) {
    if (p <= prev || p >= static_cast<int>(tokens.size()))
      throw Error(str("sequence ", index, ": output positions must be ascending and < ", tokens.size()));
    prev = p;
  }
}

ChunkPacker::ChunkPacker(std::vector<std::size_t> lengths, int chunk_tokens)
    : lengths_(std::move(lengths)), cursor_(lengths_.size(), 0) {
  const std::size_t total = std::accumulate(lengths_.begin(), lengths_.end(), std::size_t{0});
  max_rows_ = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(std::max(chunk_tokens, 1)),
                                                     std::max<std::size_t>(total, 1)));
}

bool ChunkPacker::next(std::vector<ChunkPiece>& pieces, int& rows) {
  pieces.clear();
  rows = 0;
  while (rows < max_rows_ && seq_ < lengths_.size()) {
    const std::size_t remaining = lengths_[seq_] - cursor_[seq_];
    if (remaining == 0) {
      ++seq_;
      continue;
    }
    const int take =
        static_cast<int>(std::min<std::size_t>(remaining, static_cast<std::size_t>(max_rows_ - rows)));
    pieces.push_back({seq_, cursor_[seq_], rows, take});
    cursor_[seq_] += static_cast<std::size_t>(take);
    rows += take;
  }
  return rows > 0;
}

}  // namespace rwkv

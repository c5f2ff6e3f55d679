// The ragged-batch chunking shared by the RWKV-4 and RWKV-7 forward passes: sequences are packed in order
// into chunks of at most chunk_tokens rows, each sequence contributing as many of its next tokens as fit.
// Every row's arithmetic is independent of the packing, so results do not depend on the chunk size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace rwkv {

using TokenId = std::int32_t;

// Throws rwkv::Error naming sequence `index` if a token is outside [0, vocab) or the output positions are
// not ascending positions of the sequence.
void check_sequence(std::size_t index, std::span<const TokenId> tokens, int vocab,
                    std::span<const int> output_positions);

// A run of consecutive tokens [begin, begin + len) of sequence `seq`, at rows [row0, row0 + len).
struct ChunkPiece {
  std::size_t seq, begin;
  int row0, len;
};

class ChunkPacker {
 public:
  // lengths[i]: tokens of sequence i. chunk_tokens < 1 counts as 1.
  ChunkPacker(std::vector<std::size_t> lengths, int chunk_tokens);

  // Rows a chunk can have: chunk_tokens, or fewer when the whole batch is smaller (a decode step or a
  // short query needs buffers for its own rows only).
  int max_rows() const { return max_rows_; }
  // The next chunk's pieces and its row count; false when every token has been packed.
  bool next(std::vector<ChunkPiece>& pieces, int& rows);

 private:
  std::vector<std::size_t> lengths_, cursor_;
  int max_rows_;
  std::size_t seq_ = 0;
};

}  // namespace rwkv

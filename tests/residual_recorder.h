// Records a forward pass's residual stream (the model's ResidualTrace hook) in the layout of the
// reference's trace files, and compares it with them: shared by the golden trace tests of every model.
#pragma once

#include <cstddef>
#include <filesystem>
#include <vector>

#include "model/block_context.h"

namespace rwkv::test {

class ResidualRecorder {
 public:
  ResidualRecorder(int layers, int tokens, int channels);

  // The hook to pass to a forward pass of `tokens` rows; it records into this object, which must outlive it.
  ResidualTrace hook();

  // Expects the recording, and ln_out (the final LayerNorm's rows), to match dir/x_after_emb_ln0.npy
  // [T, C], dir/x_after_att.npy and dir/x_after_ffn.npy [L, T, C], and dir/ln_out.npy [T, C] within tol.
  void expect_matches(const std::filesystem::path& dir, const std::vector<float>& ln_out, double tol) const;

 private:
  int tokens_, channels_;
  std::vector<float> emb_, att_, ffn_;
};

// 0, 1, ..., n - 1: the positions of a sequence's n tokens.
std::vector<int> positions(std::size_t n);

}  // namespace rwkv::test

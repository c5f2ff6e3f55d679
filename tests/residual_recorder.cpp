// Records the residual stream of a forward pass and compares it with the reference's trace files.
#include "residual_recorder.h"

#include <algorithm>
#include <numeric>

#include "test_support.h"

namespace rwkv::test {

ResidualRecorder::ResidualRecorder(int layers, int tokens, int channels)
    : tokens_(tokens),
      channels_(channels),
      att_(static_cast<std::size_t>(layers) * tokens * channels),
      ffn_(att_.size()) {}

ResidualTrace ResidualRecorder::hook() {
  return [this](int layer, TraceStage stage, const float* x, int rows) {
    ASSERT_EQ(rows, tokens_) << "trace of layer " << layer;
    const std::size_t n = static_cast<std::size_t>(rows) * channels_;
    const std::size_t at = static_cast<std::size_t>(layer) * n;
    switch (stage) {
      case kTraceEmbedding:
        emb_.assign(x, x + n);
        break;
      case kTraceAfterAtt:
        ASSERT_LE(at + n, att_.size()) << "layer " << layer;
        std::copy(x, x + n, att_.begin() + static_cast<std::ptrdiff_t>(at));
        break;
      case kTraceAfterFfn:
        ASSERT_LE(at + n, ffn_.size()) << "layer " << layer;
        std::copy(x, x + n, ffn_.begin() + static_cast<std::ptrdiff_t>(at));
        break;
    }
  };
}

void ResidualRecorder::expect_matches(const std::filesystem::path& dir, const std::vector<float>& ln_out,
                                      double tol) const {
  const auto want = [&](const char* file) { return load_npy(dir / file).data; };
  EXPECT_TRUE(AllClose(emb_, want("x_after_emb_ln0.npy"), tol)) << "embedding + ln0";
  EXPECT_TRUE(AllClose(att_, want("x_after_att.npy"), tol)) << "after time mix";
  EXPECT_TRUE(AllClose(ffn_, want("x_after_ffn.npy"), tol)) << "after channel mix";
  EXPECT_TRUE(AllClose(ln_out, want("ln_out.npy"), tol)) << "ln_out";
}

std::vector<int> positions(std::size_t n) {
  std::vector<int> pos(n);
  std::iota(pos.begin(), pos.end(), 0);
  return pos;
}

}  // namespace rwkv::test

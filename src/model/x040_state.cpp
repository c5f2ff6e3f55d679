// RWKV-4 state: zero state and the state embedding.
#include "model/x040_state.h"

#include <algorithm>

namespace rwkv {

namespace {
constexpr float kMinusInfinity = -1e30f;  // ChatRWKV / rwkv.cpp initial pp
}  // namespace

X040State::X040State(const X040Dims& d)
    : n_layer_(d.n_layer),
      D_(d.n_embd),
      A_(d.n_att),
      data_(static_cast<std::size_t>(d.n_layer) * layer_size(), 0.0f) {
  for (int l = 0; l < n_layer_; ++l) std::fill(pp(l), pp(l) + A_, kMinusInfinity);
}

std::vector<float> X040State::state_embedding() const {
  std::vector<float> e(static_cast<std::size_t>(A_));
  if (n_layer_ == 0) return e;
  const float *a = aa(n_layer_ - 1), *b = bb(n_layer_ - 1);
  for (int c = 0; c < A_; ++c) e[c] = b[c] != 0.0f ? a[c] / b[c] : 0.0f;  // bb = 0 only before any token
  return e;
}

}  // namespace rwkv

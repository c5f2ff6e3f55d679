// X040State: the recurrent state of one sequence for an RWKV-4 model, in ChatRWKV's order. Per layer, five
// vectors stored contiguously: att_xx [D] (last ln1 output), aa [A], bb [A], pp [A] (the stable WKV
// numerator, denominator and running exponent), ffn_xx [D] (last ln2 output). With A = D (every released
// model) the whole state is a [L][5][D] float array. The zero state has pp = -1e30 (stands for -inf).
#pragma once

#include <memory>
#include <vector>

#include "model/language_model.h"
#include "model/x040_weights.h"

namespace rwkv {

class X040State : public LmState {
 public:
  X040State() = default;
  explicit X040State(const X040Dims& d);  // the zero state

  std::unique_ptr<LmState> clone() const override { return std::make_unique<X040State>(*this); }
  bool matches(const X040Dims& d) const { return d.n_layer == n_layer_ && d.n_embd == D_ && d.n_att == A_; }

  int n_layer() const { return n_layer_; }
  std::size_t layer_size() const {
    return 2 * static_cast<std::size_t>(D_) + 3 * static_cast<std::size_t>(A_);
  }
  float* layer(int l) { return data_.data() + l * layer_size(); }
  const float* layer(int l) const { return data_.data() + l * layer_size(); }
  float* att_xx(int l) { return layer(l); }
  float* aa(int l) { return layer(l) + D_; }
  float* bb(int l) { return aa(l) + A_; }
  float* pp(int l) { return bb(l) + A_; }
  float* ffn_xx(int l) { return pp(l) + A_; }
  const float* aa(int l) const { return layer(l) + D_; }
  const float* bb(int l) const { return aa(l) + A_; }

  // All layers, [L][att_xx D, aa A, bb A, pp A, ffn_xx D]: [L][5][D] when A = D.
  const std::vector<float>& values() const { return data_; }
  std::vector<float>& values() { return data_; }
  // The simple state embedding: aa / bb of the last layer, [A]. It equals num/den of
  // simple-rwkv-text-embedding (spec §1.7); after at least one token bb >= 1, so the division is safe.
  std::vector<float> state_embedding() const;

 private:
  int n_layer_ = 0, D_ = 0, A_ = 0;
  std::vector<float> data_;
};

}  // namespace rwkv

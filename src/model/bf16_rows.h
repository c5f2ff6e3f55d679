// Activation rows rounded to bf16: the A side of products with bf16 weights, written where the rows are
// computed (token shifts, attention output) so the products need no rounding pass of their own.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "util/aligned.h"

namespace rwkv {

// `count` matrices of rows x ld bf16 values, ld = the width rounded up to even (the products read k in
// pairs). Grows, never shrinks; the matrices move when it grows.
class Bf16Rows {
 public:
  // Makes room for at least `count` matrices of rows x width; false when the current ones suffice.
  bool reserve(int rows, int width, std::size_t count) {
    const std::size_t ld = static_cast<std::size_t>(width + width % 2);
    if (rows <= rows_ && ld <= ld_ && count <= count_) return false;
    rows_ = std::max(rows, rows_);
    ld_ = std::max(ld, ld_);
    count_ = std::max(count, count_);
    buf_.assign(count_ * matrix_size(), 0);
    return true;
  }
  std::uint16_t* matrix(std::size_t i) { return buf_.data() + i * matrix_size(); }
  std::size_t ld() const { return ld_; }

 private:
  std::size_t matrix_size() const { return static_cast<std::size_t>(rows_) * ld_; }

  AlignedVector<std::uint16_t> buf_;
  int rows_ = 0;
  std::size_t ld_ = 0, count_ = 0;
};

}  // namespace rwkv

// LayerNorm over one row.
#include "kernels/norm.h"

#include <cmath>

namespace rwkv {

void layer_norm(const float* x, float* y, int n, const float* w, const float* b, float eps) {
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += x[i];
  const double mean = sum / n;
  double var = 0;
  for (int i = 0; i < n; ++i) {
    const double c = x[i] - mean;
    var += c * c;
  }
  var /= n;
  const float inv = static_cast<float>(1.0 / std::sqrt(var + eps));
  const float m = static_cast<float>(mean);
  for (int i = 0; i < n; ++i) y[i] = (x[i] - m) * inv * w[i] + b[i];
}

}  // namespace rwkv

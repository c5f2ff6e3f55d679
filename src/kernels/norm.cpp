// LayerNorm and GroupNorm over one row.
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

void group_norm(const float* x, float* y, int n, int group, const float* w, const float* b, float eps) {
  for (int g = 0; g < n; g += group) {
    double sum = 0;
    for (int i = 0; i < group; ++i) sum += x[g + i];
    const double mean = sum / group;
    double var = 0;
    for (int i = 0; i < group; ++i) {
      const double c = x[g + i] - mean;
      var += c * c;
    }
    var /= group;
    const float inv = static_cast<float>(1.0 / std::sqrt(var + eps));
    const float m = static_cast<float>(mean);
    for (int i = 0; i < group; ++i) y[g + i] = (x[g + i] - m) * inv * w[g + i] + b[g + i];
  }
}

}  // namespace rwkv

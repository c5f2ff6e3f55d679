// Loading and validation of x070 block weights.
#include "model/x070_weights.h"

#include <cstdlib>

#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv {

std::vector<float> load_vector(const Checkpoint& ckpt, const std::string& name, long numel) {
  const TensorView& t = ckpt.get(name);
  if (t.numel() != numel)
    throw Error(str(ckpt.path(), ": tensor ", name, " has ", t.numel(), " values, expected ", numel));
  return t.to_float();
}

int count_blocks(const Checkpoint& ckpt, const std::string& prefix) {
  int n = 0;
  for (const auto& t : ckpt.tensors()) {
    if (t.name.rfind(prefix, 0) != 0) continue;
    const char* p = t.name.c_str() + prefix.size();
    char* end = nullptr;
    long idx = std::strtol(p, &end, 10);
    if (end == p || *end != '.' || idx < 0 || idx > 100000) continue;
    n = std::max(n, static_cast<int>(idx) + 1);
  }
  return n;
}

namespace {

const TensorView& matrix(const Checkpoint& ckpt, const std::string& name, long rows, long cols) {
  const TensorView& t = ckpt.get(name);
  if (t.shape.size() != 2 || (rows >= 0 && t.shape[0] != rows) || (cols >= 0 && t.shape[1] != cols))
    throw Error(str(ckpt.path(), ": tensor ", name, " has shape ", t.shape.size() == 2 ? "" : "of rank ",
                    t.shape.size() == 2 ? str("[", t.shape[0], ", ", t.shape[1], "]") : str(t.shape.size()),
                    ", expected [", rows < 0 ? std::string("?") : str(rows), ", ",
                    cols < 0 ? std::string("?") : str(cols), "]"));
  return t;
}

}  // namespace

X070Stack load_x070_stack(const Checkpoint& ckpt, const std::string& prefix, WeightPrecision precision) {
  X070Stack s;
  X070Dims& d = s.dims;
  d.n_layer = count_blocks(ckpt, prefix);
  if (d.n_layer == 0) throw Error(str(ckpt.path(), ": no tensors named ", prefix, "<n>.*"));
  const std::string b0 = prefix + "0.";
  const TensorView& rk = ckpt.get(b0 + "att.r_k");
  if (rk.shape.size() != 2) throw Error(str(ckpt.path(), ": tensor ", b0, "att.r_k must be [H, N]"));
  d.n_head = static_cast<int>(rk.shape[0]);
  d.head_size = static_cast<int>(rk.shape[1]);
  if (d.head_size != 64)
    throw Error(str(ckpt.path(), ": head size ", d.head_size, " from ", b0, "att.r_k; RWKV-7 uses 64"));
  d.n_embd = d.n_head * d.head_size;
  const long C = d.n_embd;
  d.ffn = static_cast<int>(matrix(ckpt, b0 + "ffn.key.weight", -1, C).shape[0]);
  s.ln0_w = load_vector(ckpt, b0 + "ln0.weight", C);
  s.ln0_b = load_vector(ckpt, b0 + "ln0.bias", C);
  for (int l = 0; l < d.n_layer; ++l) {
    const std::string p = prefix + std::to_string(l) + ".";
    X070Block b;
    auto vec = [&](const std::string& n) { return load_vector(ckpt, p + n, C); };
    b.ln1_w = vec("ln1.weight"), b.ln1_b = vec("ln1.bias");
    b.ln2_w = vec("ln2.weight"), b.ln2_b = vec("ln2.bias");
    b.x_r = vec("att.x_r"), b.x_w = vec("att.x_w"), b.x_k = vec("att.x_k");
    b.x_v = vec("att.x_v"), b.x_a = vec("att.x_a"), b.x_g = vec("att.x_g");
    b.w0 = vec("att.w0"), b.a0 = vec("att.a0"), b.k_k = vec("att.k_k"), b.k_a = vec("att.k_a");
    b.r_k = vec("att.r_k");
    b.lnx_w = vec("att.ln_x.weight"), b.lnx_b = vec("att.ln_x.bias");
    b.ffn_x_k = vec("ffn.x_k");
    b.R = PackedMatrix::from_linear(matrix(ckpt, p + "att.receptance.weight", C, C), precision);
    b.K = PackedMatrix::from_linear(matrix(ckpt, p + "att.key.weight", C, C), precision);
    b.V = PackedMatrix::from_linear(matrix(ckpt, p + "att.value.weight", C, C), precision);
    b.O = PackedMatrix::from_linear(matrix(ckpt, p + "att.output.weight", C, C), precision);
    b.FK = PackedMatrix::from_linear(matrix(ckpt, p + "ffn.key.weight", d.ffn, C), precision);
    b.FV = PackedMatrix::from_linear(matrix(ckpt, p + "ffn.value.weight", C, d.ffn), precision);
    auto lora = [&](const std::string& first, const std::string& second, int& width) {
      const TensorView& t1 = matrix(ckpt, p + first, C, -1);
      const long w = t1.shape[1];
      if (width != 0 && width != w)
        throw Error(
            str(ckpt.path(), ": tensor ", p, first, " has LoRA width ", w, ", other blocks have ", width));
      width = static_cast<int>(w);
      return std::make_pair(PackedMatrix::from_in_out(t1, precision),
                            PackedMatrix::from_in_out(matrix(ckpt, p + second, w, C), precision));
    };
    std::tie(b.w1, b.w2) = lora("att.w1", "att.w2", d.d_w);
    std::tie(b.a1, b.a2) = lora("att.a1", "att.a2", d.d_a);
    std::tie(b.g1, b.g2) = lora("att.g1", "att.g2", d.d_g);
    b.has_value_residual = ckpt.find(p + "att.v0") != nullptr;
    if (l > 0 && !b.has_value_residual)
      throw Error(str(ckpt.path(), ": missing tensor ", p,
                      "att.v0 (every block after the first has a value residual)"));
    b.has_value_residual = l > 0;  // a layer-0 copy, if a file has one, is never used
    if (b.has_value_residual) {
      b.v0 = vec("att.v0");
      std::tie(b.v1, b.v2) = lora("att.v1", "att.v2", d.d_v);
    }
    s.blocks.push_back(std::move(b));
    // The block now lives in packed or copied form: its mapped bytes can leave memory (peak resident
    // memory while loading stays one block above the packed weights).
    for (const TensorView& t : ckpt.tensors())
      if (t.name.starts_with(p)) ckpt.drop_pages(t);
  }
  return s;
}

}  // namespace rwkv

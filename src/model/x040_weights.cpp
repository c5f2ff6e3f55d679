// Loading and validation of RWKV-4 weights.
#include "model/x040_weights.h"

#include <cmath>
#include <string>

#include "model/x070_weights.h"  // load_vector, count_blocks
#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv {

namespace {

std::string shape_string(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// A 2-D float tensor of exactly [rows, cols] (-1 = any), contiguous.
const TensorView& matrix(const Checkpoint& ckpt, const std::string& name, long rows, long cols) {
  const TensorView& t = ckpt.get(name);
  if (t.shape.size() != 2 || (rows >= 0 && t.shape[0] != rows) || (cols >= 0 && t.shape[1] != cols) ||
      t.shape[0] <= 0 || t.shape[1] <= 0) {
    std::string want = "[";
    want += rows < 0 ? std::string("?") : std::to_string(rows);
    want += ", ";
    want += cols < 0 ? std::string("?") : std::to_string(cols);
    want += "]";
    throw Error(
        str(ckpt.path(), ": tensor ", name, " has shape ", shape_string(t.shape), ", expected ", want));
  }
  if (t.dtype != DType::F32 && t.dtype != DType::BF16 && t.dtype != DType::F16)
    throw Error(str(ckpt.path(), ": tensor ", name, " has unsupported dtype ", dtype_name(t.dtype),
                    " (expected F32, BF16 or F16)"));
  if (!t.is_contiguous()) throw Error(str(ckpt.path(), ": tensor ", name, " must be contiguous"));
  return t;
}

// Refuses files this loader would misread, with the reason.
void check_is_plain_rwkv4(const Checkpoint& ckpt) {
  for (const char* key : {"_strategy", "_version", "_rescale_layer"})
    if (ckpt.metadata().contains(key) || ckpt.find(key))
      throw Error(str(ckpt.path(), ": entry ", key,
                      " marks a ChatRWKV-converted checkpoint (weights already transposed, rescaled or "
                      "quantized); use the original .pth file"));
  for (const TensorView& t : ckpt.tensors()) {
    const std::string& n = t.name;
    auto has = [&](const char* part) { return n.find(part) != std::string::npos; };
    if (has(".att.ln_x.") || has(".att.gate.") || has(".time_maa") || has(".att.r_k") || has(".att.x_r") ||
        has(".time_faaaa"))
      throw Error(str(ckpt.path(), ": tensor ", n, " belongs to an RWKV-5/6/7 checkpoint, not RWKV-4"));
  }
}

}  // namespace

X040Weights load_x040_weights(const Checkpoint& ckpt, WeightPrecision precision) {
  check_is_plain_rwkv4(ckpt);
  X040Weights w;
  X040Dims& d = w.dims;
  d.n_layer = count_blocks(ckpt, "blocks.");
  if (d.n_layer == 0) throw Error(str(ckpt.path(), ": no tensors named blocks.<n>.*"));
  const TensorView& emb = matrix(ckpt, "emb.weight", -1, -1);
  d.vocab = static_cast<int>(emb.shape[0]);
  d.n_embd = static_cast<int>(emb.shape[1]);
  const long D = d.n_embd;
  d.n_att = static_cast<int>(matrix(ckpt, "blocks.0.att.key.weight", -1, D).shape[0]);
  d.n_ffn = static_cast<int>(matrix(ckpt, "blocks.0.ffn.key.weight", -1, D).shape[0]);
  const long A = d.n_att, F = d.n_ffn;
  w.ln0_w = load_vector(ckpt, "blocks.0.ln0.weight", D);
  w.ln0_b = load_vector(ckpt, "blocks.0.ln0.bias", D);
  for (int l = 0; l < d.n_layer; ++l) {
    const std::string p = "blocks." + std::to_string(l) + ".";
    X040Block b;
    auto vec = [&](const std::string& n, long numel) { return load_vector(ckpt, p + n, numel); };
    auto complement = [](const std::vector<float>& mix) {
      std::vector<float> keep(mix.size());
      for (std::size_t i = 0; i < mix.size(); ++i) keep[i] = 1.0f - mix[i];
      return keep;
    };
    b.ln1_w = vec("ln1.weight", D), b.ln1_b = vec("ln1.bias", D);
    b.ln2_w = vec("ln2.weight", D), b.ln2_b = vec("ln2.bias", D);
    const TensorView& td = ckpt.get(p + "att.time_decay");
    if (td.shape.size() >= 2 && td.shape.back() > 1 && td.numel() != A)
      throw Error(str(ckpt.path(), ": tensor ", td.name, " has shape ", shape_string(td.shape),
                      " (per-head decay: an RWKV-5 checkpoint, not RWKV-4)"));
    b.decay = vec("att.time_decay", A);
    for (float& x : b.decay) x = -std::exp(x);
    b.first = vec("att.time_first", A);
    b.att_mix_k = vec("att.time_mix_k", D), b.att_keep_k = complement(b.att_mix_k);
    b.att_mix_v = vec("att.time_mix_v", D), b.att_keep_v = complement(b.att_mix_v);
    b.att_mix_r = vec("att.time_mix_r", D), b.att_keep_r = complement(b.att_mix_r);
    b.ffn_mix_k = vec("ffn.time_mix_k", D), b.ffn_keep_k = complement(b.ffn_mix_k);
    b.ffn_mix_r = vec("ffn.time_mix_r", D), b.ffn_keep_r = complement(b.ffn_mix_r);
    auto linear = [&](const std::string& n, long out, long in) {
      return PackedMatrix::from_linear(matrix(ckpt, p + n, out, in), precision);
    };
    b.K = linear("att.key.weight", A, D);
    b.V = linear("att.value.weight", A, D);
    b.R = linear("att.receptance.weight", A, D);
    b.O = linear("att.output.weight", D, A);
    b.FK = linear("ffn.key.weight", F, D);
    b.FR = linear("ffn.receptance.weight", D, D);
    b.FV = linear("ffn.value.weight", D, F);
    w.blocks.push_back(std::move(b));
    // The block now lives in packed or copied form: its mapped bytes can leave memory.
    for (const TensorView& t : ckpt.tensors())
      if (t.name.starts_with(p)) ckpt.drop_pages(t);
  }
  w.ln_out_w = load_vector(ckpt, "ln_out.weight", D);
  w.ln_out_b = load_vector(ckpt, "ln_out.bias", D);
  const TensorView& head = matrix(ckpt, "head.weight", d.vocab, D);
  w.head = PackedMatrix::from_linear(head, precision);
  ckpt.drop_pages(head);  // the embedding table stays mapped: rows are read from it at every lookup
  return w;
}

}  // namespace rwkv

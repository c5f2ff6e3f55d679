// Synthetic checkpoint generation.
#include "model/synth.h"

#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/named_tensor.h"
#include "io/pth_writer.h"
#include "io/safetensors_writer.h"
#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv {

int lora_width_decay(int C) {
  return std::max(32, 32 * static_cast<int>(std::lround(1.8 * std::sqrt(C) / 32)));
}
int lora_width_value(int C) {
  return std::max(32, 32 * static_cast<int>(std::lround(1.3 * std::sqrt(C) / 32)));
}
int lora_width_gate(int C) {
  if (C == 1024) return 128;
  return std::max(32, 32 * static_cast<int>(std::lround(0.6 * std::pow(C, 0.8) / 32)));
}

namespace {

// splitmix64: small, fast, reproducible across platforms.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform() { return (next() >> 11) * (1.0 / 9007199254740992.0); }  // [0, 1)
  double normal() {  // Irwin-Hall(4) approximation, unit variance
    return (uniform() + uniform() + uniform() + uniform() - 2.0) * std::sqrt(3.0);
  }

 private:
  std::uint64_t s_;
};

class Builder {
 public:
  Builder(DType dtype, std::uint64_t seed) : dtype_(dtype), rng_(seed) {}

  void normal(const std::string& name, std::vector<std::int64_t> shape, double mean, double std) {
    add(name, std::move(shape), [&] { return mean + std * rng_.normal(); });
  }
  void uniform(const std::string& name, std::vector<std::int64_t> shape, double lo, double hi) {
    add(name, std::move(shape), [&] { return lo + (hi - lo) * rng_.uniform(); });
  }
  // The training init curve for w0 over channels, plus noise, clipped to [-8, 2].
  void decay_bias(const std::string& name, int C) {
    int c = 0;
    add(name, {1, 1, C}, [&] {
      const double curve = -6.5 + 5.0 * std::pow(static_cast<double>(c++) / std::max(1, C - 1), 0.9);
      return std::clamp(curve + 0.75 * rng_.normal(), -8.0, 2.0);
    });
  }
  std::int64_t params() const { return params_; }
  std::vector<NamedTensor> tensors() const {
    std::vector<NamedTensor> out;
    for (const auto& t : store_) out.push_back({t->name, dtype_, t->shape, t->bytes});
    return out;
  }

 private:
  struct Stored {
    std::string name;
    std::vector<std::int64_t> shape;
    std::vector<std::byte> data;
    std::span<const std::byte> bytes;
  };
  template <typename F>
  void add(const std::string& name, std::vector<std::int64_t> shape, F&& gen) {
    std::int64_t n = 1;
    for (auto s : shape) n *= s;
    auto t = std::make_unique<Stored>();
    t->name = name;
    t->shape = std::move(shape);
    t->data.resize(static_cast<std::size_t>(n) * dtype_size(dtype_));
    std::byte* p = t->data.data();
    for (std::int64_t i = 0; i < n; ++i) {
      float v = static_cast<float>(gen());
      if (v == 0.0f) v = 1e-3f;  // nothing is exactly zero
      if (dtype_ == DType::F32) {
        std::memcpy(p + 4 * i, &v, 4);
      } else {
        const std::uint16_t h = dtype_ == DType::BF16 ? float_to_bf16(v) : float_to_f16(v);
        std::memcpy(p + 2 * i, &h, 2);
      }
    }
    t->bytes = t->data;
    params_ += n;
    store_.push_back(std::move(t));
  }
  DType dtype_;
  Rng rng_;
  std::vector<std::unique_ptr<Stored>> store_;
  std::int64_t params_ = 0;
};

void x070_blocks(Builder& b, const std::string& prefix, int L, int C, int F) {
  const int H = C / 64, dw = lora_width_decay(C), dv = lora_width_value(C), dg = lora_width_gate(C);
  const double s = 1.0 / std::sqrt(C);
  for (int l = 0; l < L; ++l) {
    const std::string p = prefix + "blocks." + std::to_string(l) + ".";
    if (l == 0) b.normal(p + "ln0.weight", {C}, 1, 0.1), b.normal(p + "ln0.bias", {C}, 0, 0.1);
    b.normal(p + "ln1.weight", {C}, 1, 0.1), b.normal(p + "ln1.bias", {C}, 0, 0.1);
    b.normal(p + "ln2.weight", {C}, 1, 0.1), b.normal(p + "ln2.bias", {C}, 0, 0.1);
    for (const char* m : {"x_r", "x_w", "x_k", "x_v", "x_a", "x_g"})
      b.uniform(p + "att." + m, {1, 1, C}, 0, 1);
    b.decay_bias(p + "att.w0", C);
    b.normal(p + "att.w1", {C, dw}, 0, 0.1), b.normal(p + "att.w2", {dw, C}, 0, 0.1);
    b.normal(p + "att.a0", {1, 1, C}, 0, 0.5);
    b.normal(p + "att.a1", {C, dw}, 0, 0.1), b.normal(p + "att.a2", {dw, C}, 0, 0.1);
    if (l > 0) {
      b.normal(p + "att.v0", {1, 1, C}, 0.5, 0.7);
      b.normal(p + "att.v1", {C, dv}, 0, 0.1), b.normal(p + "att.v2", {dv, C}, 0, 0.1);
    }
    b.normal(p + "att.g1", {C, dg}, 0, 0.1), b.normal(p + "att.g2", {dg, C}, 0, 0.15);
    b.normal(p + "att.k_k", {1, 1, C}, 0.85, 0.15), b.normal(p + "att.k_a", {1, 1, C}, 1, 0.15);
    b.normal(p + "att.r_k", {H, 64}, 0, 0.5);
    for (const char* m : {"receptance", "key", "value"}) b.normal(p + "att." + m + ".weight", {C, C}, 0, s);
    b.normal(p + "att.output.weight", {C, C}, 0, s / 2);
    b.uniform(p + "att.ln_x.weight", {C}, 0.3, 1.2), b.normal(p + "att.ln_x.bias", {C}, 0, 0.1);
    b.uniform(p + "ffn.x_k", {1, 1, C}, 0, 1);
    b.normal(p + "ffn.key.weight", {F, C}, 0, s),
        b.normal(p + "ffn.value.weight", {C, F}, 0, 0.5 / std::sqrt(F));
  }
}

void x040_blocks(Builder& b, int L, int C, int F) {
  const double s = 1.0 / std::sqrt(C);
  for (int l = 0; l < L; ++l) {
    const std::string p = "blocks." + std::to_string(l) + ".";
    if (l == 0) b.normal(p + "ln0.weight", {C}, 1, 0.1), b.normal(p + "ln0.bias", {C}, 0, 0.1);
    b.normal(p + "ln1.weight", {C}, 1, 0.1), b.normal(p + "ln1.bias", {C}, 0, 0.1);
    b.normal(p + "ln2.weight", {C}, 1, 0.1), b.normal(p + "ln2.bias", {C}, 0, 0.1);
    b.uniform(p + "att.time_decay", {C}, -2, 2);
    b.normal(p + "att.time_first", {C}, 0, 0.5);
    for (const char* m : {"time_mix_k", "time_mix_v", "time_mix_r"})
      b.uniform(p + "att." + m, {1, 1, C}, 0, 1);
    for (const char* m : {"key", "value", "receptance"}) b.normal(p + "att." + m + ".weight", {C, C}, 0, s);
    b.normal(p + "att.output.weight", {C, C}, 0, s / 2);
    for (const char* m : {"time_mix_k", "time_mix_r"}) b.uniform(p + "ffn." + m, {1, 1, C}, 0, 1);
    b.normal(p + "ffn.key.weight", {F, C}, 0, s);
    b.normal(p + "ffn.receptance.weight", {C, C}, 0, s);
    b.normal(p + "ffn.value.weight", {C, F}, 0, 0.5 / std::sqrt(F));
  }
}

}  // namespace

std::int64_t write_synthetic_model(const SynthSpec& spec, const std::filesystem::path& out) {
  if (spec.embd <= 0 || spec.embd % 64 != 0)
    throw Error(str("synth: --embd must be a positive multiple of 64, got ", spec.embd));
  if (spec.layers <= 0) throw Error(str("synth: --layers must be positive, got ", spec.layers));
  if (spec.dtype != DType::BF16 && spec.dtype != DType::F16 && spec.dtype != DType::F32)
    throw Error("synth: dtype must be bf16, fp16 or fp32");
  const int C = spec.embd, L = spec.layers, F = spec.ffn > 0 ? spec.ffn : 4 * C;
  Builder b(spec.dtype, spec.seed);
  nlohmann::json meta = nlohmann::json::object();
  if (spec.kind == "x070-embedding") {
    const int V = spec.vocab > 0 ? spec.vocab : 65536;
    b.normal("rwkv.emb.weight", {V, C}, 0, 1);
    x070_blocks(b, "rwkv.", L, C, F);
    b.normal("rwkv.ln_out.weight", {C}, 1, 0.1), b.normal("rwkv.ln_out.bias", {C}, 0, 0.1);
    for (const char* h : {"cls_head", "sts_head", "retr_head"}) {
      const std::string p = std::string("head.") + h + ".";
      b.normal(p + "fc1.weight", {C, C}, 0, 1.0 / std::sqrt(C)),
          b.normal(p + "fc2.weight", {C, C}, 0, 0.5 / std::sqrt(C));
      b.normal(p + "norm.weight", {C}, 1, 0.1), b.normal(p + "norm.bias", {C}, 0, 0.1);
    }
  } else if (spec.kind == "x070-reranker") {
    b.normal("reranker.emb.weight", {1, C}, 0, 1);
    x070_blocks(b, "reranker.", L, C, F);
    b.normal("reranker.ln_out.weight", {C}, 1, 0.1), b.normal("reranker.ln_out.bias", {C}, 0, 0.1);
    b.normal("reranker.head.0.weight", {C, C}, 0, 1.0 / std::sqrt(C)),
        b.normal("reranker.head.0.bias", {C}, 0, 0.1);
    b.normal("reranker.head.2.weight", {1, C}, 0, 1.0 / std::sqrt(C));
    if (!spec.reranker_layer_idx.empty()) {
      auto idx = nlohmann::json::parse(spec.reranker_layer_idx, nullptr, false);
      if (!idx.is_array() || static_cast<int>(idx.size()) != L)
        throw Error(str("synth: --reranker-layer-idx must be a JSON list of ", L, " integers"));
      meta["reranker_layer_idx"] = idx;
    }
  } else if (spec.kind == "x070-lm" || spec.kind == "x040-lm") {
    const bool v7 = spec.kind == "x070-lm";
    const int V = spec.vocab > 0 ? spec.vocab : (v7 ? 65536 : 50277);
    b.normal("emb.weight", {V, C}, 0, 1);
    if (v7) {
      x070_blocks(b, "", L, C, F);
    } else {
      x040_blocks(b, L, C, F);
    }
    b.normal("ln_out.weight", {C}, 1, 0.1), b.normal("ln_out.bias", {C}, 0, 0.1);
    b.normal("head.weight", {V, C}, 0, 1.0 / std::sqrt(C));
  } else {
    throw Error(str("synth: unknown kind '", spec.kind,
                    "' (expected x070-embedding, x070-reranker, x070-lm or x040-lm)"));
  }
  const std::string ext = out.extension().string();
  if (ext == ".safetensors") {
    write_safetensors(out, b.tensors(), meta);
  } else if (ext == ".pth" || ext == ".pt") {
    PthWriteOptions o;
    o.folder = out.stem().string();
    write_pth(out, b.tensors(), meta, o);
  } else {
    throw Error(str("synth: output ", out.string(), " must end in .safetensors or .pth"));
  }
  return b.params();
}

}  // namespace rwkv

// Model-kind detection: classify by characteristic keys, then read every dimension from tensor shapes
// and sort each key into expected, ignorable or unknown.
#include "model/detect.h"

#include <algorithm>
#include <set>
#include <string_view>

namespace rwkv {

namespace {

bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

// Splits "<prefix>blocks.<n>.<rest>" into n and rest; false if `name` is not a block key.
bool block_key(std::string_view name, std::string_view prefix, long& index, std::string_view& rest) {
  if (!starts_with(name, prefix)) return false;
  name.remove_prefix(prefix.size());
  if (!starts_with(name, "blocks.")) return false;
  name.remove_prefix(7);
  const auto dot = name.find('.');
  if (dot == 0 || dot == std::string_view::npos || dot > 9) return false;
  index = 0;
  for (char c : name.substr(0, dot)) {
    if (c < '0' || c > '9') return false;
    index = index * 10 + (c - '0');
  }
  rest = name.substr(dot + 1);
  return true;
}

const std::set<std::string_view> kX070Block = {"ln0.weight",      "ln0.bias",         "ln1.weight",
                                               "ln1.bias",        "ln2.weight",       "ln2.bias",
                                               "att.x_r",         "att.x_w",          "att.x_k",
                                               "att.x_v",         "att.x_a",          "att.x_g",
                                               "att.w0",          "att.w1",           "att.w2",
                                               "att.a0",          "att.a1",           "att.a2",
                                               "att.v0",          "att.v1",           "att.v2",
                                               "att.g1",          "att.g2",           "att.k_k",
                                               "att.k_a",         "att.r_k",          "att.receptance.weight",
                                               "att.key.weight",  "att.value.weight", "att.output.weight",
                                               "att.ln_x.weight", "att.ln_x.bias",    "ffn.x_k",
                                               "ffn.key.weight",  "ffn.value.weight"};
const std::set<std::string_view> kX040Block = {"ln0.weight",
                                               "ln0.bias",
                                               "ln1.weight",
                                               "ln1.bias",
                                               "ln2.weight",
                                               "ln2.bias",
                                               "att.time_decay",
                                               "att.time_first",
                                               "att.time_mix_k",
                                               "att.time_mix_v",
                                               "att.time_mix_r",
                                               "att.key.weight",
                                               "att.value.weight",
                                               "att.receptance.weight",
                                               "att.output.weight",
                                               "ffn.time_mix_k",
                                               "ffn.time_mix_r",
                                               "ffn.key.weight",
                                               "ffn.receptance.weight",
                                               "ffn.value.weight"};

// Shape of `name`, or an empty vector when absent.
std::vector<std::int64_t> shape_of(const Checkpoint& c, const std::string& name) {
  const TensorView* t = c.find(name);
  return t ? t->shape : std::vector<std::int64_t>{};
}

void set_dim(nlohmann::json& dims, const char* key, const std::vector<std::int64_t>& shape,
             std::size_t axis) {
  if (shape.size() > axis) dims[key] = shape[axis];
}

struct KindRules {
  std::string prefix;  // backbone prefix: "rwkv.", "reranker." or ""
  const std::set<std::string_view>* block;
  std::set<std::string> top;  // expected non-block keys
  std::vector<std::string> ignored_prefixes;
};

KindRules rules_for(const std::string& kind) {
  if (kind == "x040-lm")
    return {"", &kX040Block, {"emb.weight", "ln_out.weight", "ln_out.bias", "head.weight"}, {}};
  KindRules r{"", &kX070Block, {}, {}};
  if (kind == "x070-embedding") {
    r.prefix = "rwkv.";
    for (const char* h : {"retr", "sts", "cls"})
      for (const char* p : {"fc1.weight", "fc2.weight", "norm.weight", "norm.bias"})
        r.top.insert(std::string("head.") + h + "_head." + p);
    r.ignored_prefixes = {"rwkv.head.weight", "vit.", "proj."};
  } else if (kind == "x070-reranker") {
    r.prefix = "reranker.";
    r.top = {"reranker.token.weight", "reranker.head.0.weight", "reranker.head.0.bias",
             "reranker.head.2.weight"};
  } else {
    r.top = {"head.weight"};
  }
  for (const char* k : {"emb.weight", "ln_out.weight", "ln_out.bias"}) r.top.insert(r.prefix + k);
  return r;
}

std::string classify(const Checkpoint& c) {
  bool rwkv = false, heads = false, reranker = false, r_k = false, decay = false;
  long n = 0;
  std::string_view rest;
  for (const auto& t : c.tensors()) {
    rwkv = rwkv || starts_with(t.name, "rwkv.");
    heads = heads || starts_with(t.name, "head.retr_head.") || starts_with(t.name, "head.sts_head.") ||
            starts_with(t.name, "head.cls_head.");
    reranker = reranker || starts_with(t.name, "reranker.");
    if (block_key(t.name, "", n, rest)) {
      r_k = r_k || rest == "att.r_k";
      decay = decay || rest == "att.time_decay" || rest == "att.time_first";
    }
  }
  const bool head = c.find("head.weight") != nullptr;
  if (rwkv && heads) return "x070-embedding";
  if (reranker) return "x070-reranker";
  if (r_k && head) return "x070-lm";
  if (decay && head) return "x040-lm";
  return "unknown";
}

}  // namespace

ModelInfo detect_model(const Checkpoint& c) {
  ModelInfo info;
  info.kind = classify(c);
  if (info.kind == "unknown") return info;
  const KindRules rules = rules_for(info.kind);
  const std::string& p = rules.prefix;

  long layers = -1, index = 0;
  std::string_view rest;
  for (const auto& t : c.tensors()) {
    if (block_key(t.name, p, index, rest) && rules.block->count(rest)) {
      layers = std::max(layers, index);
    } else if (rules.top.count(t.name)) {
      continue;
    } else if (std::any_of(rules.ignored_prefixes.begin(), rules.ignored_prefixes.end(),
                           [&](const std::string& ip) { return starts_with(t.name, ip); })) {
      info.ignored_keys.push_back(t.name);
    } else {
      info.unknown_keys.push_back(t.name);
    }
  }
  auto& d = info.dims;
  d["layers"] = layers + 1;
  const std::string b0 = p + "blocks.0.";
  const auto emb =
      shape_of(c, p + "emb.weight").empty() ? shape_of(c, p + "token.weight") : shape_of(c, p + "emb.weight");
  set_dim(d, "n_embd", emb, 1);
  if (info.kind != "x070-reranker") set_dim(d, "vocab", emb, 0);
  set_dim(d, "vocab", shape_of(c, "head.weight"), 0);
  set_dim(d, "ffn", shape_of(c, b0 + "ffn.key.weight"), 0);
  if (info.kind == "x040-lm") {
    set_dim(d, "n_att", shape_of(c, b0 + "att.key.weight"), 0);
    return info;
  }
  set_dim(d, "n_head", shape_of(c, b0 + "att.r_k"), 0);
  set_dim(d, "head_size", shape_of(c, b0 + "att.r_k"), 1);
  auto& lora = d["lora"] = nlohmann::json::object();
  for (const auto& [key, tensor] : {std::pair{"w", "w1"}, {"a", "a1"}, {"v", "v1"}, {"g", "g1"}}) {
    for (long l = 0; l <= layers; ++l) {  // v1 is absent in block 0: take the first block that has it
      const auto s = shape_of(c, p + "blocks." + std::to_string(l) + ".att." + tensor);
      if (s.size() == 2) {
        lora[key] = s[1];
        break;
      }
    }
  }
  if (info.kind == "x070-embedding") {
    auto& heads = d["task_heads"] = nlohmann::json::array();
    for (const char* h : {"retr", "sts", "cls"})
      if (c.find(std::string("head.") + h + "_head.fc1.weight")) heads.push_back(h);
  }
  if (info.kind == "x070-reranker" && c.metadata().contains("reranker_layer_idx")) {
    const auto& v = c.metadata()["reranker_layer_idx"];
    // .pth stores a list; safetensors metadata can only hold a string, e.g. "[1, 0]".
    d["reranker_layer_idx"] = v.is_string() ? nlohmann::json::parse(v.get<std::string>(), nullptr, false) : v;
    if (d["reranker_layer_idx"].is_discarded()) d["reranker_layer_idx"] = v;
  }
  return info;
}

}  // namespace rwkv

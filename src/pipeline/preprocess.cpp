// Preprocessing policies and rerank templates.
#include "pipeline/preprocess.h"

#include <algorithm>

#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv {

EmbedPolicy parse_policy(std::string_view name) {
  if (name == "simple") return EmbedPolicy::Simple;
  if (name == "multi-eos") return EmbedPolicy::MultiEos;
  throw Error(str("unknown preprocessing policy '", name, "' (expected simple or multi-eos)"));
}

std::vector<TokenId> policy_simple(const std::vector<TokenId>& ids) {
  std::vector<TokenId> out(ids);
  out.push_back(kEos);
  return out;
}

namespace {
std::size_t ceil_div(std::size_t a, std::size_t b) {
  return (a + b - 1) / b;
}

void append_normal(const TokenId* ids, std::size_t n, std::size_t n_eos, std::vector<TokenId>& out) {
  const std::size_t c = std::max<std::size_t>(1, ceil_div(n, n_eos));
  for (std::size_t k = 0; k < n_eos; ++k) {
    const std::size_t b = std::min(n, k * c), e = std::min(n, k * c + c);
    out.insert(out.end(), ids + b, ids + e);
    out.push_back(kEos);
  }
}
}  // namespace

std::vector<TokenId> policy_multi_eos(const std::vector<TokenId>& all, const MultiEosParams& p) {
  if (p.ctx_len <= 0 || p.eos_chunk <= 0 || p.ctx_len % p.eos_chunk != 0)
    throw Error(str("multi-eos: ctx_len (", p.ctx_len, ") must be a positive multiple of eos_chunk (",
                    p.eos_chunk, ")"));
  const std::size_t ctx = static_cast<std::size_t>(p.ctx_len), chunk = static_cast<std::size_t>(p.eos_chunk);
  const std::size_t n_eos = ctx / chunk;
  const std::size_t n = std::min(all.size(), 8 * ctx);
  const std::size_t max_allowed = ctx - n_eos;
  std::vector<TokenId> out;
  if (n < chunk) {
    for (std::size_t r = 0; r < n_eos; ++r) {
      out.insert(out.end(), all.begin(), all.begin() + static_cast<long>(n));
      out.push_back(kEos);
    }
  } else if (n <= max_allowed) {
    append_normal(all.data(), n, n_eos, out);
  } else {
    const std::size_t splits = ceil_div(n, ctx), part = ceil_div(n, splits);
    for (std::size_t j = 0; j < splits; ++j) {
      const std::size_t b = std::min(n, j * part), e = std::min(n, j * part + part);
      append_normal(all.data() + b, e - b, n_eos, out);
    }
  }
  if (p.pad_to_16 && out.size() % 16 != 0) out.insert(out.begin(), 16 - out.size() % 16, kEvalPadId);
  return out;
}

namespace {
std::string substitute(const std::string& tmpl, std::string_view key, std::string_view value) {
  std::string out;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t at = tmpl.find(key, pos);
    if (at == std::string::npos) break;
    out.append(tmpl, pos, at - pos);
    out.append(value);
    pos = at + key.size();
  }
  out.append(tmpl, pos, std::string::npos);
  return out;
}
}  // namespace

std::string RerankTemplate::document_text(std::string_view document) const {
  return substitute(document_part, "{document}", document);
}
std::string RerankTemplate::query_text(std::string_view query) const {
  return substitute(query_part, "{query}", query);
}
std::string RerankTemplate::online_text(std::string_view document, std::string_view query) const {
  return document_text(document) + query_text(query);
}

}  // namespace rwkv

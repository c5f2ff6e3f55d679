// Preprocessing policies: pure functions from token ids to the sequence the model runs. Each is named
// and documented here (see also docs/embedding.md).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "model/x070_model.h"

namespace rwkv {

inline constexpr TokenId kEos = 65535;

enum class EmbedPolicy { Simple, MultiEos };
EmbedPolicy parse_policy(std::string_view name);  // "simple" | "multi-eos"

// simple: ids + [EOS] (the reference's quick-start usage; the default).
std::vector<TokenId> policy_simple(const std::vector<TokenId>& ids);

// multi-eos: the evaluation protocol behind the published MTEB scores (spec appendix). ids are first
// truncated to 8*ctx_len; short texts (n < eos_chunk) are repeated n_eos = ctx_len/eos_chunk times,
// each copy followed by EOS; normal texts are cut into n_eos slices of ceil(n/n_eos) tokens, each
// followed by EOS; long texts (n > ctx_len - n_eos) are split into ceil(n/ctx_len) parts, each
// processed like a normal text.
// pad_to_16: finally left-pad with id 261 to a multiple of 16 tokens, as the evaluation wrapper's model
// does for its training kernel (the pads run through the model); only for exact reproduction of the
// published protocol on a batch of one.
struct MultiEosParams {
  int ctx_len = 2048;
  int eos_chunk = 512;
  bool pad_to_16 = false;
};
inline constexpr TokenId kEvalPadId = 261;
std::vector<TokenId> policy_multi_eos(const std::vector<TokenId>& ids, const MultiEosParams& p = {});

// The reranker's text templates. {document} and {query} are replaced literally.
struct RerankTemplate {
  std::string document_part =
      "Instruct: Given a query, retrieve documents that answer the query\nDocument: {document}\n";
  std::string query_part = "Query: {query}";
  std::string document_text(std::string_view document) const;  // offline prefix, no EOS
  std::string query_text(std::string_view query) const;        // offline suffix (EOS appended by caller)
  std::string online_text(std::string_view document, std::string_view query) const;
};

}  // namespace rwkv

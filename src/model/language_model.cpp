// load_language_model: picks the architecture from the checkpoint's tensor names.
#include "model/language_model.h"

#include "model/detect.h"
#include "model/x040_model.h"
#include "model/x070_lm.h"
#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv {

std::unique_ptr<LanguageModel> load_language_model(std::shared_ptr<const Checkpoint> ckpt,
                                                   WeightPrecision precision, int chunk_tokens) {
  if (!ckpt) throw Error("load_language_model: no checkpoint");
  const std::string kind = detect_model(*ckpt).kind;
  if (kind == "x040-lm") return std::make_unique<X040Model>(ckpt, precision, chunk_tokens);
  if (kind == "x070-lm") return std::make_unique<X070LanguageModel>(ckpt, precision, chunk_tokens);
  std::string why = "detected kind '" + kind + "'";
  if (kind == "x070-embedding" || kind == "x070-reranker")
    why += ": an EmbeddingRWKV model has no LM head (use `rwkv embed` / `rwkv rerank`)";
  else if (kind == "unknown")
    why +=
        ": expected RWKV-4 (blocks.N.att.time_decay + head.weight) or RWKV-7 (blocks.N.att.r_k + "
        "head.weight)";
  throw Error(str(ckpt->path(), ": not a language model (", why, ")"));
}

}  // namespace rwkv

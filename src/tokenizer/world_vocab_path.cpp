// find_world_vocab: where the World vocab file is looked for, in order (see world_tokenizer.h), and the
// error that tells the user how to get it.
#include <cstdlib>
#include <system_error>

#include "rwkv/error.h"
#include "tokenizer/world_tokenizer.h"
#include "util/strcat.h"

namespace rwkv {
namespace {

constexpr const char* kVocabName = "rwkv_vocab_v20230424.txt";

bool is_file(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_regular_file(p, ec);
}

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

}  // namespace

std::filesystem::path find_world_vocab(const std::optional<std::filesystem::path>& flag,
                                       const std::optional<std::filesystem::path>& model_path) {
  const std::string how = str(
      "Get it with scripts/fetch-vocab.sh (downloads it to ${XDG_DATA_HOME:-~/.local/share}/rwkv/ and checks "
      "its SHA-256), then either leave it there, set RWKV_VOCAB=/path/to/",
      kVocabName, ", or pass --vocab /path/to/", kVocabName, ".");
  // An explicit choice that does not exist is an error, not a reason to look elsewhere.
  if (flag) {
    if (is_file(*flag)) return *flag;
    throw Error(str("vocab file given by --vocab not found: ", flag->string(), ". ", how));
  }
  if (const char* v = env("RWKV_VOCAB")) {
    if (is_file(v)) return v;
    throw Error(str("vocab file given by $RWKV_VOCAB not found: ", v, ". ", how));
  }
  std::string searched;
  if (model_path) {
    const auto p = model_path->parent_path() / kVocabName;
    if (is_file(p)) return p;
    searched += str(p.string(), ", ");
  }
  std::filesystem::path data_dir;
  if (const char* xdg = env("XDG_DATA_HOME")) {
    data_dir = xdg;
  } else if (const char* home = env("HOME")) {
    data_dir = std::filesystem::path(home) / ".local" / "share";
  }
  if (!data_dir.empty()) {
    const auto p = data_dir / "rwkv" / kVocabName;
    if (is_file(p)) return p;
    searched += str(p.string(), ", ");
  }
  throw Error(str("World vocab ", kVocabName, " not found (no --vocab, no $RWKV_VOCAB; looked in ",
                  searched.empty() ? std::string("no directories, HOME is unset")
                                   : searched.substr(0, searched.size() - 2),
                  "). ", how));
}

}  // namespace rwkv

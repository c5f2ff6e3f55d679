// load_tokenizer and find_neox_tokenizer (see tokenizer_select.h), and the World tokenizer's adapter to
// the Tokenizer interface.
#include "tokenizer/tokenizer_select.h"

#include <cstdlib>
#include <system_error>

#include "rwkv/error.h"
#include "tokenizer/neox_tokenizer.h"
#include "util/strcat.h"

namespace rwkv {
namespace {

constexpr const char* kNeoxFileName = "20B_tokenizer.json";

class WorldAdapter final : public Tokenizer {
 public:
  explicit WorldAdapter(WorldTokenizer world) : world_(std::move(world)) {}
  std::string name() const override { return "world"; }
  std::size_t vocab_size() const override { return world_.vocab_size() + 1; }  // + id 0
  std::vector<TokenId> encode(std::string_view utf8) const override { return world_.encode(utf8); }
  std::string decode_bytes(std::span<const TokenId> ids) const override { return world_.decode_bytes(ids); }
  bool is_special(TokenId id) const override { return id == kEndOfText || id == kEmbeddingEos; }

 private:
  WorldTokenizer world_;
};

bool is_file(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_regular_file(p, ec);
}

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

std::string lower_extension(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  for (char& c : ext) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return ext;
}

}  // namespace

ModelHint model_hint_for_kind(std::string_view kind) {
  if (kind.starts_with("x040")) return ModelHint::kRwkv4;
  if (kind.starts_with("x070")) return ModelHint::kRwkv7;
  return ModelHint::kNone;
}

std::unique_ptr<Tokenizer> make_world_tokenizer(WorldTokenizer world) {
  return std::make_unique<WorldAdapter>(std::move(world));
}

std::filesystem::path find_neox_tokenizer(const std::optional<std::filesystem::path>& flag,
                                          const std::optional<std::filesystem::path>& model_path) {
  const std::string how = str(
      "Get it with scripts/fetch-vocab.sh (downloads it to ${XDG_DATA_HOME:-~/.local/share}/rwkv/ and checks "
      "its SHA-256; it is ",
      kNeoxFileName,
      " from github.com/BlinkDL/ChatRWKV), then either leave it there, set "
      "RWKV_TOKENIZER_20B=/path/to/",
      kNeoxFileName, ", or pass --tokenizer /path/to/", kNeoxFileName, ".");
  if (flag) {
    if (is_file(*flag)) return *flag;
    throw Error(str("tokenizer file ", flag->string(), " not found. ", how));
  }
  if (const char* v = env("RWKV_TOKENIZER_20B")) {
    if (is_file(v)) return v;
    throw Error(str("tokenizer file given by $RWKV_TOKENIZER_20B not found: ", v, ". ", how));
  }
  std::string searched;
  if (model_path) {
    const auto p = model_path->parent_path() / kNeoxFileName;
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
    const auto p = data_dir / "rwkv" / kNeoxFileName;
    if (is_file(p)) return p;
    searched += str(p.string(), ", ");
  }
  throw Error(str("GPT-NeoX-20B tokenizer ", kNeoxFileName,
                  " not found (no --tokenizer PATH, no $RWKV_TOKENIZER_20B; looked in ",
                  searched.empty() ? std::string("no directories, HOME is unset")
                                   : searched.substr(0, searched.size() - 2),
                  "). ", how));
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& spec, ModelHint hint,
                                          const std::optional<std::filesystem::path>& model_path,
                                          const std::optional<std::filesystem::path>& world_vocab_flag) {
  std::string name = spec;
  if (name.empty()) name = hint == ModelHint::kRwkv4 ? "20b" : "world";
  if (name == "world")
    return make_world_tokenizer(WorldTokenizer::load(find_world_vocab(world_vocab_flag, model_path)));
  if (name == "20b") return NeoxTokenizer::load(find_neox_tokenizer(std::nullopt, model_path));
  const std::filesystem::path path(spec);
  const std::string ext = lower_extension(path);
  if (ext != ".json" && ext != ".txt")
    throw Error(str("unknown tokenizer \"", spec,
                    "\": use world, 20b, a tokenizer.json file (GPT-NeoX BPE) or a .txt World vocab file"));
  if (!is_file(path)) throw Error(str("tokenizer file ", spec, " not found"));
  if (ext == ".json") return NeoxTokenizer::load(path);
  return make_world_tokenizer(WorldTokenizer::load(path));
}

}  // namespace rwkv

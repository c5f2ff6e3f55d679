// load_tokenizer and find_neox_tokenizer (see tokenizer_select.h), and the World tokenizer's adapter to
// the Tokenizer interface.
#include "tokenizer/tokenizer_select.h"

#include <system_error>

#include "rwkv/error.h"
#include "tokenizer/data_file.h"
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
  return find_data_file(
      {kNeoxFileName, "GPT-NeoX-20B tokenizer", "--tokenizer", "RWKV_TOKENIZER_20B",
       str("Get it with scripts/fetch-vocab.sh (downloads it to ${XDG_DATA_HOME:-~/.local/share}/rwkv/ and "
           "checks its SHA-256; it is ",
           kNeoxFileName,
           " from github.com/BlinkDL/ChatRWKV), then either leave it there, set RWKV_TOKENIZER_20B=/path/to/",
           kNeoxFileName, ", or pass --tokenizer /path/to/", kNeoxFileName, ".")},
      flag, model_path);
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

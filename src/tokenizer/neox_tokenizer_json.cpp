// tokenizer.json reader for the NeoX tokenizer (see neox_tokenizer_json.h). Every error names the file
// and the JSON field, e.g. "model.merges[17]".
#include "tokenizer/neox_tokenizer_json.h"

#include <cstdint>

#include <nlohmann/json.hpp>

#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv::neox {
namespace {

using nlohmann::json;

class Reader {
 public:
  explicit Reader(const std::string& name) : name_(name) {}

  [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
    throw Error(str("tokenizer file ", name_, ": field '", field, "' ", problem));
  }

  static std::string kind(const json& j) { return j.type_name(); }

  const json& object(const json& parent, const char* key, const std::string& field) const {
    const auto it = parent.find(key);
    if (it == parent.end()) fail(field, "is missing");
    if (!it->is_object()) fail(field, str("must be an object, not ", kind(*it)));
    return *it;
  }

  // The "type" of a component object (nullptr when the component is absent or null).
  const std::string* component_type(const json& parent, const char* key) const {
    const auto it = parent.find(key);
    if (it == parent.end() || it->is_null()) return nullptr;
    if (!it->is_object()) fail(key, str("must be an object or null, not ", kind(*it)));
    const auto t = it->find("type");
    if (t == it->end()) fail(str(key, ".type"), "is missing");
    if (!t->is_string()) fail(str(key, ".type"), str("must be a string, not ", kind(*t)));
    return &t->get_ref<const std::string&>();
  }

  bool boolean(const json& obj, const char* key, const std::string& field, bool fallback) const {
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) fail(field, str("must be true or false, not ", kind(*it)));
    return it->get<bool>();
  }

  bool required_boolean(const json& obj, const char* key, const std::string& field) const {
    if (obj.find(key) == obj.end()) fail(field, "is missing");
    return boolean(obj, key, field, false);
  }

  TokenId id(const json& j, const std::string& field) const {
    if (!j.is_number_integer() ||
        (j.is_number_unsigned() ? j.get<std::uint64_t>() > 0x7FFFFFFE
                                : j.get<std::int64_t>() < 0 || j.get<std::int64_t>() > 0x7FFFFFFE))
      fail(field, str("must be a token id (an integer from 0 to 2147483646), not ", j.dump().substr(0, 40)));
    return static_cast<TokenId>(j.get<std::int64_t>());
  }

  const std::string& string(const json& j, const std::string& field) const {
    if (!j.is_string()) fail(field, str("must be a string, not ", kind(j)));
    return j.get_ref<const std::string&>();
  }

 private:
  const std::string& name_;
};

void read_normalizer(const Reader& r, const json& root, NeoxConfig& cfg) {
  const std::string* type = r.component_type(root, "normalizer");
  if (type == nullptr) return;
  if (*type != "NFC")
    r.fail("normalizer.type", str("is \"", *type, "\"; only NFC (or no normalizer) is supported"));
  cfg.nfc = true;
}

void read_pre_tokenizer(const Reader& r, const json& root, NeoxConfig& cfg) {
  const std::string* type = r.component_type(root, "pre_tokenizer");
  if (type == nullptr) r.fail("pre_tokenizer", "is missing; a ByteLevel pre-tokenizer is required");
  if (*type != "ByteLevel")
    r.fail("pre_tokenizer.type", str("is \"", *type, "\"; only ByteLevel is supported"));
  const json& pre = root["pre_tokenizer"];
  cfg.add_prefix_space = r.required_boolean(pre, "add_prefix_space", "pre_tokenizer.add_prefix_space");
  cfg.use_regex = r.boolean(pre, "use_regex", "pre_tokenizer.use_regex", true);
}

void read_decoder_and_post_processor(const Reader& r, const json& root) {
  const std::string* decoder = r.component_type(root, "decoder");
  if (decoder == nullptr) r.fail("decoder", "is missing; a ByteLevel decoder is required");
  if (*decoder != "ByteLevel")
    r.fail("decoder.type", str("is \"", *decoder, "\"; only ByteLevel is supported"));
  const std::string* post = r.component_type(root, "post_processor");
  if (post != nullptr && *post != "ByteLevel")
    r.fail("post_processor.type",
           str("is \"", *post, "\"; only ByteLevel (which adds no tokens) or null is supported"));
}

void read_model_options(const Reader& r, const json& model, NeoxConfig& cfg) {
  if (const auto t = model.find("type"); t != model.end()) {
    if (r.string(*t, "model.type") != "BPE")
      r.fail("model.type", str("is \"", t->get_ref<const std::string&>(), "\"; only BPE is supported"));
  }
  if (const auto d = model.find("dropout"); d != model.end() && !d->is_null()) {
    if (!d->is_number()) r.fail("model.dropout", str("must be a number or null, not ", Reader::kind(*d)));
    if (d->get<double>() != 0.0) r.fail("model.dropout", "is not supported (encoding would be random)");
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    const auto it = model.find(key);
    if (it == model.end() || it->is_null()) continue;
    if (!r.string(*it, str("model.", key)).empty())
      r.fail(str("model.", key), "is not supported (must be null)");
  }
  cfg.ignore_merges = r.boolean(model, "ignore_merges", "model.ignore_merges", false);
  cfg.fuse_unk = r.boolean(model, "fuse_unk", "model.fuse_unk", false);
  if (const auto u = model.find("unk_token"); u != model.end() && !u->is_null())
    cfg.unk_token = r.string(*u, "model.unk_token");
}

void read_vocab(const Reader& r, const json& model, NeoxConfig& cfg) {
  const json& vocab = r.object(model, "vocab", "model.vocab");
  cfg.vocab.reserve(vocab.size());
  for (const auto& [token, id] : vocab.items())
    cfg.vocab.emplace_back(token, r.id(id, str("model.vocab[\"", token, "\"]")));
}

void read_merges(const Reader& r, const json& model, NeoxConfig& cfg) {
  const auto it = model.find("merges");
  if (it == model.end()) r.fail("model.merges", "is missing");
  if (!it->is_array()) r.fail("model.merges", str("must be an array, not ", Reader::kind(*it)));
  cfg.merges.reserve(it->size());
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& m = (*it)[i];
    const std::string field = str("model.merges[", i, "]");
    if (m.is_string()) {
      const std::string& s = m.get_ref<const std::string&>();
      const auto space = s.find(' ');
      if (space == std::string::npos || space == 0 || space + 1 == s.size() ||
          s.find(' ', space + 1) != std::string::npos)
        r.fail(field, "must be \"left right\": two non-empty tokens separated by one space");
      cfg.merges.emplace_back(s.substr(0, space), s.substr(space + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      cfg.merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      r.fail(field, "must be a string \"left right\" or an array of two strings");
    }
  }
}

void read_added_tokens(const Reader& r, const json& root, NeoxConfig& cfg) {
  const auto it = root.find("added_tokens");
  if (it == root.end() || it->is_null()) return;
  if (!it->is_array()) r.fail("added_tokens", str("must be an array, not ", Reader::kind(*it)));
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& t = (*it)[i];
    const std::string field = str("added_tokens[", i, "]");
    if (!t.is_object()) r.fail(field, str("must be an object, not ", Reader::kind(t)));
    AddedToken tok;
    const auto id = t.find("id");
    if (id == t.end()) r.fail(field + ".id", "is missing");
    tok.id = r.id(*id, field + ".id");
    const auto content = t.find("content");
    if (content == t.end()) r.fail(field + ".content", "is missing");
    tok.content = r.string(*content, field + ".content");
    tok.special = r.boolean(t, "special", field + ".special", false);
    tok.single_word = r.boolean(t, "single_word", field + ".single_word", false);
    tok.lstrip = r.boolean(t, "lstrip", field + ".lstrip", false);
    tok.rstrip = r.boolean(t, "rstrip", field + ".rstrip", false);
    tok.normalized = r.boolean(t, "normalized", field + ".normalized", !tok.special);
    cfg.added_tokens.push_back(std::move(tok));
  }
}

}  // namespace

NeoxConfig parse_neox_tokenizer_json(std::string_view contents, const std::string& name) {
  json root;
  try {
    root = json::parse(contents);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for numbers like 1E99999
    throw Error(str("tokenizer file ", name, ": invalid JSON: ", e.what()));
  }
  if (!root.is_object()) throw Error(str("tokenizer file ", name, ": the top level must be an object"));
  const Reader r(name);
  NeoxConfig cfg;
  read_normalizer(r, root, cfg);
  read_pre_tokenizer(r, root, cfg);
  read_decoder_and_post_processor(r, root);
  const json& model = r.object(root, "model", "model");
  read_model_options(r, model, cfg);
  read_vocab(r, model, cfg);
  read_merges(r, model, cfg);
  read_added_tokens(r, root, cfg);
  return cfg;
}

}  // namespace rwkv::neox

#include "tokenizer/data_file.h"

#include <cstdlib>
#include <system_error>

#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv {
namespace {

bool is_file(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_regular_file(p, ec);
}

const char* env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  return v && *v ? v : nullptr;
}

}  // namespace

std::filesystem::path find_data_file(const DataFileSpec& spec,
                                     const std::optional<std::filesystem::path>& flag,
                                     const std::optional<std::filesystem::path>& model_path) {
  if (flag) {
    if (is_file(*flag)) return *flag;
    throw Error(str(spec.what, " file given by ", spec.flag, " not found: ", flag->string(), ". ", spec.how));
  }
  if (const char* v = env(spec.env_var)) {
    if (is_file(v)) return v;
    throw Error(str(spec.what, " file given by $", spec.env_var, " not found: ", v, ". ", spec.how));
  }
  std::string searched;
  if (model_path) {
    const auto p = model_path->parent_path() / spec.file_name;
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
    const auto p = data_dir / "rwkv" / spec.file_name;
    if (is_file(p)) return p;
    searched += str(p.string(), ", ");
  }
  throw Error(str(spec.what, " ", spec.file_name, " not found (no ", spec.flag, ", no $", spec.env_var,
                  "; looked in ",
                  searched.empty() ? std::string("no directories, HOME is unset")
                                   : searched.substr(0, searched.size() - 2),
                  "). ", spec.how));
}

}  // namespace rwkv

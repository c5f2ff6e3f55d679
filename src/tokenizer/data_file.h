// Where tokenizer data files are looked for, in order: the flag, the environment variable, the model's
// directory, then ${XDG_DATA_HOME:-~/.local/share}/rwkv/. An explicit choice (flag or variable) that does
// not exist is an error, not a reason to look elsewhere.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace rwkv {

struct DataFileSpec {
  std::string file_name;  // e.g. rwkv_vocab_v20230424.txt
  std::string what;       // e.g. "World vocab", for the not-found error
  std::string flag;       // e.g. --vocab
  std::string env_var;    // e.g. RWKV_VOCAB
  std::string how;        // how to get the file, appended to every error
};

// Throws rwkv::Error naming what was tried and how to get the file.
std::filesystem::path find_data_file(const DataFileSpec& spec,
                                     const std::optional<std::filesystem::path>& flag,
                                     const std::optional<std::filesystem::path>& model_path);

}  // namespace rwkv

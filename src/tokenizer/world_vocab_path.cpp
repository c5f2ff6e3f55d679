// find_world_vocab: the World vocab file's search order (see data_file.h) and how to get it.
#include "tokenizer/data_file.h"
#include "tokenizer/world_tokenizer.h"
#include "util/strcat.h"

namespace rwkv {

std::filesystem::path find_world_vocab(const std::optional<std::filesystem::path>& flag,
                                       const std::optional<std::filesystem::path>& model_path) {
  const std::string name = "rwkv_vocab_v20230424.txt";
  return find_data_file({name, "World vocab", "--vocab", "RWKV_VOCAB",
                         str("Get it with scripts/fetch-vocab.sh (downloads it to "
                             "${XDG_DATA_HOME:-~/.local/share}/rwkv/ and checks its SHA-256), "
                             "then either leave it there, set RWKV_VOCAB=/path/to/",
                             name, ", or pass --vocab /path/to/", name, ".")},
                        flag, model_path);
}

}  // namespace rwkv

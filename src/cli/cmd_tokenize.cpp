// Placeholder until the tokenize command lands (replaced by its owner).
#include "cli/commands.h"

namespace rwkv::cli {
void add_tokenize_commands(CLI::App&) {}
}  // namespace rwkv::cli

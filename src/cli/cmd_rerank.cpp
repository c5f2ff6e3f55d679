// Placeholder until the rerank command lands (replaced by its owner).
#include "cli/commands.h"

namespace rwkv::cli {
void add_rerank_command(CLI::App&) {}
}  // namespace rwkv::cli

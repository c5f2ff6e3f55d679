// Placeholder until the embed command lands (replaced by its owner).
#include "cli/commands.h"

namespace rwkv::cli {
void add_embed_command(CLI::App&) {}
}  // namespace rwkv::cli

// Placeholder until the inspect command lands (replaced by its owner).
#include "cli/commands.h"

namespace rwkv::cli {
void add_inspect_command(CLI::App&) {}
}  // namespace rwkv::cli

// Placeholder until the demo command lands (replaced by its owner).
#include "cli/commands.h"

namespace rwkv::cli {
void add_demo_command(CLI::App&) {}
}  // namespace rwkv::cli

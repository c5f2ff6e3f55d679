// Placeholder until the state command lands (replaced by its owner).
#include "cli/commands.h"

namespace rwkv::cli {
void add_state_command(CLI::App&) {}
}  // namespace rwkv::cli

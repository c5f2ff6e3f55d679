// Registration of the CLI's subcommands. Each command lives in its own cmd_<name>.cpp, prints JSON on
// stdout, and reports failures by throwing rwkv::Error (main prints {"error": ...} and exits 1).
#pragma once

#include <CLI/CLI.hpp>

namespace rwkv::cli {

void add_inspect_command(CLI::App& app);
void add_tokenize_commands(CLI::App& app);  // tokenize, detokenize
void add_embed_command(CLI::App& app);
void add_rerank_command(CLI::App& app);
void add_synth_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_demo_command(CLI::App& app);
void add_serve_command(CLI::App& app);  // src/server/

}  // namespace rwkv::cli

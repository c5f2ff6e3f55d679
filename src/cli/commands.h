// Registration of the CLI's subcommands. Each command lives in its own cmd_<name>.cpp, prints JSON on
// stdout, and reports failures by throwing rwkv::Error (main prints {"error": ...} and exits 1).
#pragma once

#include <CLI/CLI.hpp>

namespace rwkv::cli {

void add_inspect_command(CLI::App& app);
void add_tokenize_commands(CLI::App& app);  // tokenize, detokenize
void add_embed_command(CLI::App& app);
void add_logits_command(CLI::App& app);    // language-model logits for token ids
void add_generate_command(CLI::App& app);  // text generation with a language model
void add_rerank_command(CLI::App& app);
void add_index_command(CLI::App& app);   // build/extend/prune a document index
void add_search_command(CLI::App& app);  // query a document index
void add_synth_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_demo_command(CLI::App& app);
void add_serve_command(CLI::App& app);  // src/server/

}  // namespace rwkv::cli

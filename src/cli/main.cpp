// rwkv: command-line front end. Parses flags (CLI11), dispatches to one subcommand, maps errors to a
// JSON message on stderr and a non-zero exit code.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "rwkv/error.h"

int main(int argc, char** argv) {
  CLI::App app{"rwkv: RWKV embeddings, reranking and generation on the CPU (version " RWKV_VERSION ")", "rwkv"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(RWKV_VERSION));
  rwkv::cli::add_inspect_command(app);
  rwkv::cli::add_tokenize_commands(app);
  rwkv::cli::add_embed_command(app);
  rwkv::cli::add_rerank_command(app);
  rwkv::cli::add_state_command(app);
  rwkv::cli::add_demo_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const rwkv::Error& e) {
    std::cout.flush();
    std::cerr << nlohmann::json{{"error", e.what()}}.dump() << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << nlohmann::json{{"error", "out of memory"}}.dump() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << nlohmann::json{{"error", std::string("internal error: ") + e.what()}}.dump() << "\n";
    return 2;
  }
  return 0;
}

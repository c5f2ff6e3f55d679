// rwkv: command-line front end. Parses flags (CLI11), dispatches to one subcommand, maps errors to a
// JSON message on stderr and a non-zero exit code.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "rwkv/error.h"

namespace {
// Errors may quote file names or input bytes that are not valid UTF-8: replace those bytes rather than
// letting the JSON writer throw.
void print_error(const std::string& message) {
  std::cout.flush();
  std::cerr << nlohmann::json{{"error", message}}.dump(-1, ' ', false,
                                                       nlohmann::json::error_handler_t::replace)
            << "\n";
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"rwkv: RWKV embeddings, reranking and generation on the CPU (version " RWKV_VERSION ")",
               "rwkv"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(RWKV_VERSION));
  rwkv::cli::add_inspect_command(app);
  rwkv::cli::add_tokenize_commands(app);
  rwkv::cli::add_embed_command(app);
  rwkv::cli::add_logits_command(app);
  rwkv::cli::add_generate_command(app);
  rwkv::cli::add_rerank_command(app);
  rwkv::cli::add_index_command(app);
  rwkv::cli::add_search_command(app);
  rwkv::cli::add_synth_command(app);
  rwkv::cli::add_bench_command(app);
  rwkv::cli::add_demo_command(app);
  rwkv::cli::add_serve_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const rwkv::Error& e) {
    print_error(e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    print_error("out of memory");
    return 1;
  } catch (const std::exception& e) {
    print_error(std::string("internal error: ") + e.what());
    return 2;
  }
  return 0;
}

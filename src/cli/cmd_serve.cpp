// rwkv serve: the HTTP server (src/server/). Every flag can also be set by an environment variable.
#include <memory>

#include "cli/commands.h"
#include "server/server.h"

namespace rwkv::cli {

void add_serve_command(CLI::App& app) {
  auto o = std::make_shared<server::ServerOptions>();
  auto* cmd = app.add_subcommand(
      "serve",
      "HTTP server: OpenAI /v1/embeddings, TEI /embed and /rerank, Cohere/Jina /v1/rerank (docs/server.md)");
  cmd->add_option("--model", o->model,
                  "Embedding checkpoint (.pth or .safetensors), or a language model (RWKV-4 / RWKV-7 with an "
                  "LM head): then the server offers /v1/completions")
      ->required()
      ->envname("RWKV_MODEL");
  cmd->add_option("--reranker", o->reranker, "State reranker checkpoint (enables /rerank)")
      ->envname("RWKV_RERANKER");
  cmd->add_option("--tokenizer", o->tokenizer,
                  "Language models: world, 20b or a tokenizer file (.json HF / .txt World vocab); default: "
                  "20b for RWKV-4, world for RWKV-7")
      ->envname("RWKV_TOKENIZER");
  cmd->add_option("--index", o->index,
                  "Document index directory (made by rwkv index): enables /v1/search, /v1/documents and "
                  "/v1/rerank with document_ids")
      ->envname("RWKV_INDEX");
  cmd->add_option("--vocab", o->vocab,
                  "World vocab file; default: $RWKV_VOCAB, next to the model, or the user data dir");
  cmd->add_option("--host", o->host, "Address to listen on (default: loopback only)")->envname("RWKV_HOST");
  cmd->add_option("--port", o->port, "Port (0 = any free port; the chosen one is printed)")
      ->envname("RWKV_PORT")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--threads", o->threads, "Inference threads (0 = all cores)")
      ->envname("RWKV_THREADS")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--precision,--weights", o->precision, "Weights: fp32 (exact), bf16, int8 or w8a8")
      ->envname("RWKV_PRECISION")
      ->check(CLI::IsMember({"fp32", "bf16", "int8", "w8a8"}));
  cmd->add_option("--chunk-tokens", o->chunk_tokens, "Tokens processed per forward step")
      ->envname("RWKV_CHUNK_TOKENS")
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--max-batch-tokens", o->max_batch_tokens, "Tokens packed into one inference batch")
      ->envname("RWKV_MAX_BATCH_TOKENS")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-client-batch-size", o->max_client_batch_size, "Inputs or documents per request")
      ->envname("RWKV_MAX_CLIENT_BATCH_SIZE")
      ->check(CLI::PositiveNumber);
  cmd->add_option(
         "--max-input-tokens", o->max_input_tokens,
         "Tokens per input, EOS included (0 = unlimited); longer inputs are 422 unless truncate=true")
      ->envname("RWKV_MAX_INPUT_TOKENS")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--payload-limit", o->payload_limit, "Largest request body in bytes (413 above)")
      ->envname("RWKV_PAYLOAD_LIMIT")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-queue", o->max_queue, "Work items waiting for inference (429 above)")
      ->envname("RWKV_MAX_QUEUE")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-batch-requests", o->max_batch_requests,
                  "Requests packed into one inference batch (0 = no limit but --max-batch-tokens; 1 = no "
                  "dynamic batching)")
      ->envname("RWKV_MAX_BATCH_REQUESTS")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option(
         "--max-concurrent-requests", o->max_concurrent_requests,
         "Model requests handled at once (parsing, queued or running); more get 429 with Retry-After")
      ->envname("RWKV_MAX_CONCURRENT_REQUESTS")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--http-threads", o->http_threads,
                  "Connection handler threads (0 = --max-concurrent-requests + 8, so that requests over the "
                  "limit are answered at once)")
      ->envname("RWKV_HTTP_THREADS")
      ->check(CLI::Range(0, 8192));
  cmd->add_option("--api-key", o->api_keys,
                  "Accepted API key (Authorization: Bearer KEY); repeatable; none = no authentication")
      ->envname("RWKV_API_KEY");
  cmd->add_option("--api-key-file", o->api_key_file,
                  "File of accepted API keys, one per line (blank lines skipped); adds to --api-key")
      ->envname("RWKV_API_KEY_FILE");
  cmd->add_option(
         "--cors-allow-origin", o->cors_allow_origins,
         "Browser origin allowed to call the API (CORS headers, OPTIONS preflight); repeatable; * = any")
      ->envname("RWKV_CORS_ALLOW_ORIGIN");
  cmd->add_flag("--verbose", o->verbose, "Print the chosen ISA and thread count on stderr");
  cmd->callback([o] { server::run_server(*o); });
}

}  // namespace rwkv::cli

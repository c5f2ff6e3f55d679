// `rwkv serve`: an HTTP server for embeddings (OpenAI /v1/embeddings, TEI /embed) and reranking (TEI and
// Cohere/Jina /rerank), with dynamic batching on one inference thread. See docs/server.md.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace rwkv::server {

struct ServerOptions {
  std::string model;                    // embedding checkpoint
  std::optional<std::string> reranker;  // state reranker checkpoint
  std::optional<std::string> vocab;     // World vocab (default: the usual lookup)
  std::optional<std::string> index;     // document index directory (rwkv index): /v1/search, /v1/documents
  std::string tokenizer;                // language models: world, 20b or a file ("" = from the model)
  std::string host = "127.0.0.1";
  int port = 8080;  // 0 = any free port
  int threads = 0;  // inference threads (0 = all cores)
  int chunk_tokens = 256;
  std::string precision = "fp32";
  long max_batch_tokens = 16384;   // tokens packed into one inference batch
  int max_client_batch_size = 32;  // inputs / documents per request
  long payload_limit = 2 << 20;    // request body bytes
  int max_queue = 64;              // work items waiting for the inference thread
  int max_input_tokens = 0;        // tokens per input, EOS included (0 = unlimited)
  long max_batch_requests = 0;     // requests packed into one inference batch (0 = no limit; 1 = no batching)
  int max_concurrent_requests = 64;  // model requests handled at once (429 above)
  int http_threads = 0;              // connection handler threads (0 = max_concurrent_requests + 8)
  std::vector<std::string> api_keys;
  std::optional<std::string> api_key_file;      // more keys, one per line
  std::vector<std::string> cors_allow_origins;  // browser origins allowed (CORS); "*" = any
  bool verbose = false;
};

// Runs until SIGTERM/SIGINT (returns 0 after finishing in-flight requests). Throws rwkv::Error if the
// API key file is unreadable or empty, the address cannot be bound or the model cannot be loaded.
int run_server(const ServerOptions& o);

}  // namespace rwkv::server

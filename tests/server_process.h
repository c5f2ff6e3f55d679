// Helpers for black-box tests of `rwkv serve`: the real binary started on the golden models and an
// ephemeral loopback port, requests and replies, OpenAI-shaped error checks, Prometheus values.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace rwkv::test {

// The server process (golden embedding model and reranker, 2 threads, port 0, plus `extra` flags); always
// killed (SIGKILL) at destruction if still running.
// The arguments after `rwkv serve`, taken as they are (no defaults added; "--port 0" is up to the caller).
struct ServeArgs {
  explicit ServeArgs(std::vector<std::string> a) : args(std::move(a)) {}
  std::vector<std::string> args;
};

class ServerProcess {
 public:
  explicit ServerProcess(const std::vector<std::string>& extra, std::string model = "");
  // `rwkv serve` with exactly these arguments (e.g. a language model, which takes no reranker).
  explicit ServerProcess(ServeArgs serve);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  std::unique_ptr<httplib::Client> client() const;
  // Waits for /ready to answer 200.
  bool wait_ready() const;
  // SIGTERM, then the exit code (-1 if it did not exit within 20 s, or died of a signal).
  int terminate();
  // The exit code once the process ends by itself (-1 after 20 s, or if it died of a signal).
  int wait_exit();

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  int port_ = 0;
};

// Runs `rwkv serve ARGS` expecting it to stop by itself (a startup error): exit code and output. The
// process is killed after `limit` (exit code -1), so a server that starts anyway cannot hang the test.
CliResult run_serve_until_exit(const std::vector<std::string>& args, std::chrono::seconds limit);

// A shell-quoted path.
std::string q(const std::filesystem::path& p);

struct Reply {
  int status = 0;
  nlohmann::json body;
  std::string text;
  std::string retry_after;
  httplib::Headers headers;
};

Reply post(httplib::Client& c, const std::string& path, const std::string& body,
           const httplib::Headers& h = {});
Reply post(httplib::Client& c, const std::string& path, const nlohmann::json& body);
Reply get(httplib::Client& c, const std::string& path, const httplib::Headers& h = {});

// An OpenAI-shaped error with this status whose message contains `needle`.
::testing::AssertionResult IsError(const Reply& r, int status, const std::string& needle = "");

// The value of an unlabelled metric (or a full `name{labels}` series) in a /metrics text; -1 if absent.
double metric_value(const std::string& metrics, const std::string& series);

}  // namespace rwkv::test

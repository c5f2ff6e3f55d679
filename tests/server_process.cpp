// Starting `rwkv serve` for black-box tests, and small HTTP helpers (see server_process.h).
#include "server_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace rwkv::test {

using nlohmann::json;

namespace {

ServeArgs serve_args(const std::vector<std::string>& extra, std::string model) {
  if (model.empty()) model = golden("emb-model.bf16.pth").string();
  std::vector<std::string> args = {"--port",     "0",
                                   "--threads",  "2",
                                   "--model",    model,
                                   "--reranker", golden("reranker-b.bf16.pth").string(),
                                   "--vocab",    vocab_path().string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return ServeArgs(std::move(args));
}

// argv for execv, built before fork (the child of a multi-threaded process must not allocate).
std::vector<char*> argv_of(std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return argv;
}

// Waits up to `limit` for `pid` to exit: its exit code, or -1 (timeout or killed by a signal).
int wait_for_exit(pid_t pid, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -2;  // still running
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

ServerProcess::ServerProcess(const std::vector<std::string>& extra, std::string model)
    : ServerProcess(serve_args(extra, std::move(model))) {}

ServerProcess::ServerProcess(ServeArgs serve) {
  std::vector<std::string> args = {RWKV_CLI_PATH, "serve"};
  args.insert(args.end(), serve.args.begin(), serve.args.end());
  const auto argv = argv_of(args);
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  out_ = fds[0];
  // The first stdout line: {"listening": "HOST:PORT"}.
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{out_, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    char buf[256];
    const ssize_t n = read(out_, buf, sizeof buf);
    if (n <= 0) break;
    line.append(buf, static_cast<std::size_t>(n));
  }
  const auto j = json::parse(line.substr(0, line.find('\n')), nullptr, false);
  if (j.is_discarded() || !j.contains("listening")) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    close(out_);
    throw std::runtime_error("no listening line: " + line);
  }
  const std::string addr = j["listening"];
  port_ = std::stoi(addr.substr(addr.rfind(':') + 1));
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (out_ >= 0) close(out_);
}

std::unique_ptr<httplib::Client> ServerProcess::client() const {
  auto c = std::make_unique<httplib::Client>("127.0.0.1", port_);
  c->set_read_timeout(60, 0);
  c->set_connection_timeout(10, 0);
  return c;
}

bool ServerProcess::wait_ready() const {
  auto c = client();
  for (int i = 0; i < 300; ++i) {
    if (auto r = c->Get("/ready"); r && r->status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

int ServerProcess::terminate() {
  kill(pid_, SIGTERM);
  return wait_exit();
}

int ServerProcess::wait_exit() {
  const int code = wait_for_exit(pid_, std::chrono::seconds(20));
  if (code == -2) return -1;
  pid_ = -1;
  return code;
}

CliResult run_serve_until_exit(const std::vector<std::string>& args, std::chrono::seconds limit) {
  TempDir tmp;
  const auto out = tmp.path() / "stdout", err = tmp.path() / "stderr";
  std::vector<std::string> all = {RWKV_CLI_PATH, "serve"};
  all.insert(all.end(), args.begin(), args.end());
  const auto argv = argv_of(all);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (o < 0 || e < 0) _exit(126);
    dup2(o, 1);
    dup2(e, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int code = wait_for_exit(pid, limit);
  if (code == -2) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    code = -1;
  }
  return {code, read_file(out), read_file(err)};
}

std::string q(const std::filesystem::path& p) {
  std::string s(1, '\'');
  s += p.string();
  s += '\'';
  return s;
}

namespace {
// No HTTP reply at all: status 0, and the client's reason in `text` for the failure message.
Reply transport_failure(const httplib::Result& r) {
  Reply out;
  out.text = "no reply: " + httplib::to_string(r.error());
  return out;
}
}  // namespace

Reply post(httplib::Client& c, const std::string& path, const std::string& body, const httplib::Headers& h) {
  auto r = c.Post(path.c_str(), h, body, "application/json");
  if (!r) return transport_failure(r);
  return {r->status, json::parse(r->body, nullptr, false), r->body, r->get_header_value("Retry-After"),
          r->headers};
}
Reply post(httplib::Client& c, const std::string& path, const json& body) {
  return post(c, path, body.dump());
}
Reply get(httplib::Client& c, const std::string& path, const httplib::Headers& h) {
  auto r = c.Get(path.c_str(), h);
  if (!r) return transport_failure(r);
  return {r->status, json::parse(r->body, nullptr, false), r->body, r->get_header_value("Retry-After"),
          r->headers};
}

::testing::AssertionResult IsError(const Reply& r, int status, const std::string& needle) {
  if (r.status != status) return ::testing::AssertionFailure() << "status " << r.status << ": " << r.text;
  if (!r.body.contains("error") || !r.body["error"].contains("message") ||
      !r.body["error"].contains("type") || !r.body["error"].contains("code"))
    return ::testing::AssertionFailure() << "not an error object: " << r.text;
  if (r.body["error"]["message"].get<std::string>().find(needle) == std::string::npos)
    return ::testing::AssertionFailure() << "message lacks '" << needle << "': " << r.text;
  return ::testing::AssertionSuccess();
}

double metric_value(const std::string& metrics, const std::string& series) {
  std::istringstream lines(metrics);
  for (std::string line; std::getline(lines, line);)
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ')
      return std::stod(line.substr(series.size() + 1));
  return -1;
}

}  // namespace rwkv::test

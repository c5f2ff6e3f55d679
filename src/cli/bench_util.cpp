#include "cli/bench_util.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv::cli {

double resident_mb() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<double>(resident) * (static_cast<double>(sysconf(_SC_PAGESIZE)) / 1048576.0);
}

double peak_resident_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

nlohmann::json run_in_child(const std::function<nlohmann::json()>& f) {
  int fds[2];
  if (::pipe(fds) != 0) throw Error("bench: cannot create a pipe");
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw Error("bench: cannot fork");
  }
  if (pid == 0) {
    ::close(fds[0]);
    // A forked child starts with its parent's peak RSS; reset it to the current RSS (Linux >= 4.0).
    if (FILE* c = std::fopen("/proc/self/clear_refs", "w")) {
      std::fputs("5", c);
      std::fclose(c);
    }
    int code = 0;
    std::string out;
    try {
      out = f().dump();
    } catch (const std::exception& e) {
      out = nlohmann::json{{"child_error", e.what()}}.dump();
      code = 1;
    }
    for (std::size_t at = 0; at < out.size();) {
      const ssize_t n = ::write(fds[1], out.data() + at, out.size() - at);
      if (n <= 0) ::_exit(2);
      at += static_cast<std::size_t>(n);
    }
    ::close(fds[1]);
    ::_exit(code);
  }
  ::close(fds[1]);
  std::string text;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) {
      text.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_object() && j.contains("child_error")) throw Error(j["child_error"].get<std::string>());
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || j.is_discarded())
    throw Error(str("bench: the measuring process failed (status ", status, ")"));
  return j;
}

}  // namespace rwkv::cli

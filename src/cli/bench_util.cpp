#include "cli/bench_util.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include "kernels/dispatch.h"
#include "rwkv/error.h"
#include "util/strcat.h"
#include "util/thread_pool.h"

namespace rwkv::cli {

double fma_peak_gflops(const KernelTable& kt, ThreadPool& pool, int threads) {
  const long iters = 20'000'000;
  std::vector<float> sinks(static_cast<std::size_t>(threads));  // one per task: no shared writes
  const double s = median_seconds(3, [&] {
    pool.run_tasks(static_cast<std::size_t>(threads),
                   [&](std::size_t task, int) { sinks[task] += kt.fma_burn(iters); });
  });
  if (std::accumulate(sinks.begin(), sinks.end(), 0.0f) == 12345.0f) std::fprintf(stderr, " ");
  return threads * static_cast<double>(iters) * 12 * 16 * 2 / s / 1e9;
}

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

double read_bandwidth_gbs(ThreadPool& pool) {
  const std::size_t n = std::size_t{1} << 27;  // 512 MB of floats
  std::vector<float> buf(n, 1.0f);
  std::vector<double> sums(static_cast<std::size_t>(pool.size()));
  const double s = median_seconds(3, [&] {
    pool.parallel_for(n, 1 << 20, [&](std::size_t b, std::size_t e, int t) {
      float acc[16] = {};
      for (std::size_t i = b; i + 16 <= e; i += 16)
        for (int j = 0; j < 16; ++j) acc[j] += buf[i + j];
      sums[static_cast<std::size_t>(t)] += std::accumulate(acc, acc + 16, 0.0);
    });
  });
  return static_cast<double>(n) * sizeof(float) / s / 1e9;
}

void add_readings(nlohmann::json& j, const std::string& key, double before, double after) {
  j[key + "_before"] = before;
  j[key + "_after"] = after;
  j[key] = std::max(before, after);
}

double read_bandwidth_gbs_in_child(int threads) {
  return run_in_child([threads] {
           ThreadPool pool(threads);
           return nlohmann::json(read_bandwidth_gbs(pool));
         })
      .get<double>();
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

#include "cli/bench_util.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>

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

}  // namespace rwkv::cli

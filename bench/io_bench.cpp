// Checkpoint-open benchmarks. Two modes:
//   io_bench --write-synthetic DIR SIZE_MB   writes DIR/synthetic.safetensors (F32) and DIR/synthetic.pth
//                                            (BF16, stored zip), each about SIZE_MB megabytes, and exits;
//   io_bench [benchmark flags]               times Checkpoint::open (mmap + parse + validation) on small
//                                            synthetic files, which must not depend on the data size.
// scripts/bench-inspect.sh uses the first mode to time `rwkv inspect` on > 1 GB files.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "io/pth_writer.h"
#include "io/safetensors_writer.h"

namespace {

// Writes both files with tensors of 64 MB each (F32 [4096, 4096] / BF16 [8192, 4096]) sharing one buffer.
void write_synthetic(const std::filesystem::path& dir, std::size_t size_mb) {
  std::filesystem::create_directories(dir);
  constexpr std::size_t kTensorBytes = 64u << 20;
  std::vector<std::byte> buffer(kTensorBytes);
  for (std::size_t i = 0; i < buffer.size(); ++i)
    buffer[i] = static_cast<std::byte>((i * 2654435761u) >> 24 & 0x3f);
  const std::size_t count = (size_mb + 63) / 64;
  std::vector<rwkv::NamedTensor> f32, bf16;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string name = "blocks." + std::to_string(i) + ".ffn.key.weight";
    f32.push_back({name, rwkv::DType::F32, {4096, 4096}, buffer});
    bf16.push_back({name, rwkv::DType::BF16, {8192, 4096}, buffer});
  }
  rwkv::write_safetensors(dir / "synthetic.safetensors", f32, {{"format", "pt"}});
  rwkv::write_pth(dir / "synthetic.pth", bf16, {{"reranker_layer_idx", {1, 0}}});
}

std::filesystem::path small_dir() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / "rwkv-io-bench";
    write_synthetic(d, 128);
    return d;
  }();
  return dir;
}

void BM_OpenSafetensors(benchmark::State& state) {
  const auto path = small_dir() / "synthetic.safetensors";
  for (auto _ : state) benchmark::DoNotOptimize(rwkv::Checkpoint::open(path).tensors().size());
}
BENCHMARK(BM_OpenSafetensors);

void BM_OpenPth(benchmark::State& state) {
  const auto path = small_dir() / "synthetic.pth";
  for (auto _ : state) benchmark::DoNotOptimize(rwkv::Checkpoint::open(path).tensors().size());
}
BENCHMARK(BM_OpenPth);

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "--write-synthetic") == 0) {
    write_synthetic(argv[2], static_cast<std::size_t>(std::strtoull(argv[3], nullptr, 10)));
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

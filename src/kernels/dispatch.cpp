// CPU feature detection and the per-ISA kernel tables.
#include "kernels/dispatch.h"

#include <cstdlib>

#include "kernels/isa/kernels_isa.h"
#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv {

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::Generic:
      return "generic";
    case Isa::Avx2:
      return "avx2";
    case Isa::Avx512:
      return "avx512";
  }
  return "?";
}

Isa parse_isa(std::string_view name) {
  if (name == "generic") return Isa::Generic;
  if (name == "avx2") return Isa::Avx2;
  if (name == "avx512") return Isa::Avx512;
  throw Error(str("unknown ISA '", name, "' (expected generic, avx2 or avx512)"));
}

bool isa_supported(Isa isa) {
  switch (isa) {
    case Isa::Generic:
      return true;
    case Isa::Avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Isa::Avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512vnni") &&
             __builtin_cpu_supports("fma");
  }
  return false;
}

std::vector<Isa> supported_isas() {
  std::vector<Isa> out;
  for (Isa i : {Isa::Generic, Isa::Avx2, Isa::Avx512})
    if (isa_supported(i)) out.push_back(i);
  return out;
}

Isa best_isa() {
  return supported_isas().back();
}

Isa select_isa() {
  const char* forced = std::getenv("RWKV_FORCE_ISA");
  if (forced && *forced) {
    Isa isa = parse_isa(forced);
    if (!isa_supported(isa)) throw Error(str("RWKV_FORCE_ISA=", forced, " is not supported by this CPU"));
    return isa;
  }
  return best_isa();
}

// One table per ISA, every entry named so a new kernel cannot be wired to the wrong slot.
#define RWKV_KERNEL_TABLE(ISA, TILES, SUFFIX)                                                           \
  KernelTable {                                                                                         \
    .isa = ISA, .tiles = TILES, .gemm_tile = &isa::gemm_tile_##SUFFIX, .wkv7 = &isa::wkv7_##SUFFIX,     \
    .wkv4 = &isa::wkv4_##SUFFIX, .fma_burn = &isa::fma_burn_##SUFFIX,                                   \
    .gemm_tile_bf16 = &isa::gemm_tile_bf16_##SUFFIX, .gemm_tile_i8 = &isa::gemm_tile_i8_##SUFFIX,       \
    .gemm_tile_q8 = &isa::gemm_tile_q8_##SUFFIX, .to_bf16 = &isa::to_bf16_##SUFFIX,                     \
    .quantize_row_q8 = &isa::quantize_row_q8_##SUFFIX, .layer_norm = &isa::layer_norm_##SUFFIX,         \
    .token_mix = &isa::token_mix_##SUFFIX, .token_mix_bf16 = &isa::token_mix_bf16_##SUFFIX,             \
    .token_mix_keep = &isa::token_mix_keep_##SUFFIX,                                                    \
    .token_mix_keep_bf16 = &isa::token_mix_keep_bf16_##SUFFIX, .wkv_inputs = &isa::wkv_inputs_##SUFFIX, \
    .wkv_output = &isa::wkv_output_##SUFFIX, .gemm_row_sparse = &isa::gemm_row_sparse_##SUFFIX,         \
    .gemm_row_sparse_bf16 = &isa::gemm_row_sparse_bf16_##SUFFIX,                                        \
    .gemm_row_sparse_i8 = &isa::gemm_row_sparse_i8_##SUFFIX,                                            \
    .gemm_row_sparse_q8 = &isa::gemm_row_sparse_q8_##SUFFIX                                             \
  }

const KernelTable& kernels_for(Isa isa) {
  // Tile shapes (TileShape): 16 AVX-512 registers of accumulators (8 x 2, or one row of 8 panels); 8 pairs of
  // AVX2 registers (4 x 1); 8 quadruples of 16-byte registers (2 x 1).
  static const KernelTable generic = RWKV_KERNEL_TABLE(Isa::Generic, (TileShape{2, 1, 2}), generic);
  static const KernelTable avx2 = RWKV_KERNEL_TABLE(Isa::Avx2, (TileShape{4, 1, 4}), avx2);
  static const KernelTable avx512 = RWKV_KERNEL_TABLE(Isa::Avx512, (TileShape{8, 2, 8}), avx512);
  if (!isa_supported(isa)) throw Error(str("ISA ", isa_name(isa), " is not supported by this CPU"));
  switch (isa) {
    case Isa::Generic:
      return generic;
    case Isa::Avx2:
      return avx2;
    case Isa::Avx512:
      return avx512;
  }
  return generic;
}

}  // namespace rwkv

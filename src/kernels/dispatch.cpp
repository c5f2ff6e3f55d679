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

const KernelTable& kernels_for(Isa isa) {
  static const KernelTable generic{
      Isa::Generic,           &isa::gemm_tile_generic,      &isa::wkv7_generic,
      &isa::fma_burn_generic, &isa::gemm_tile_bf16_generic, &isa::to_bf16_generic,
      &isa::activate_generic, &isa::decay_generic,          &isa::layer_norm_generic};
  static const KernelTable avx2{Isa::Avx2,           &isa::gemm_tile_avx2,      &isa::wkv7_avx2,
                                &isa::fma_burn_avx2, &isa::gemm_tile_bf16_avx2, &isa::to_bf16_avx2,
                                &isa::activate_avx2, &isa::decay_avx2,          &isa::layer_norm_avx2};
  static const KernelTable avx512{
      Isa::Avx512,           &isa::gemm_tile_avx512,      &isa::wkv7_avx512,
      &isa::fma_burn_avx512, &isa::gemm_tile_bf16_avx512, &isa::to_bf16_avx512,
      &isa::activate_avx512, &isa::decay_avx512,          &isa::layer_norm_avx512};
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

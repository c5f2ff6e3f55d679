// Micro-kernels compiled for the avx2 instruction set (flags set in CMakeLists.txt).
#include "kernels/isa/kernels_impl.inc"
#include "kernels/isa/kernels_isa.h"

namespace rwkv::isa {

RWKV_DEFINE_COMMON_KERNELS(avx2)
RWKV_DEFINE_PORTABLE_BF16_TILE(avx2)

}  // namespace rwkv::isa

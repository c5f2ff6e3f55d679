// Micro-kernels compiled for the generic instruction set (flags set in CMakeLists.txt).
#include "kernels/isa/kernels_impl.inc"
#include "kernels/isa/kernels_isa.h"

namespace rwkv::isa {

RWKV_DEFINE_COMMON_KERNELS(generic)
RWKV_DEFINE_PORTABLE_BF16_TILE(generic)
RWKV_DEFINE_PORTABLE_Q8_TILE(generic)

}  // namespace rwkv::isa

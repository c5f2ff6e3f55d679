// X070State: the recurrent state of one sequence for an x070 model, owned by the caller.
//   shift [L, 2, C]: [l,0] = last ln1 output (time-mix shift), [l,1] = last ln2 output (channel mix).
//   wkv   [L, H, N, N]: S[l,h,i,j], i = value channel, j = key channel.
// Copyable. Serialises to a versioned, checksummed binary format (docs/state-format.md) that records
// the model's fingerprint, so a state cannot be loaded into a different model.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "model/x070_weights.h"

namespace rwkv {

enum class StateDType : std::uint32_t { F32 = 0, BF16 = 1, F16 = 2 };

struct X070State {
  int n_layer = 0, n_embd = 0, n_head = 0, head_size = 0;
  std::vector<float> shift;  // L*2*C
  std::vector<float> wkv;    // L*H*N*N

  X070State() = default;
  explicit X070State(const X070Dims& d);  // zero state
  float* shift_att(int l) { return shift.data() + static_cast<std::size_t>(l) * 2 * n_embd; }
  float* shift_ffn(int l) { return shift_att(l) + n_embd; }
  float* wkv_layer(int l) {
    return wkv.data() + static_cast<std::size_t>(l) * n_head * head_size * head_size;
  }
  const float* wkv_layer(int l) const {
    return wkv.data() + static_cast<std::size_t>(l) * n_head * head_size * head_size;
  }
  bool matches(const X070Dims& d) const;
};

// Serialisation. `fingerprint` identifies the model (X070Model::fingerprint()); `dtype` chooses how the
// values are stored (bf16/fp16 round to nearest even; fp32 is exact).
std::string serialize_state(const X070State& s, std::uint64_t fingerprint,
                            StateDType dtype = StateDType::F32);
// Throws rwkv::Error naming `source` on a bad magic/version/checksum, or when the state was made by a
// model with another fingerprint or dimensions.
X070State deserialize_state(const std::string& bytes, const X070Dims& dims, std::uint64_t fingerprint,
                            const std::string& source);
void save_state(const std::filesystem::path& path, const X070State& s, std::uint64_t fingerprint,
                StateDType dtype = StateDType::F32);
X070State load_state(const std::filesystem::path& path, const X070Dims& dims, std::uint64_t fingerprint);

// 64-bit FNV-1a, used for checksums and fingerprints.
std::uint64_t fnv1a64(const void* data, std::size_t n, std::uint64_t seed = 0xcbf29ce484222325ULL);

}  // namespace rwkv

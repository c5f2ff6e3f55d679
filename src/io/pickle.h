// Restricted unpickler for the data.pkl of a torch.save zip (protocols 2-5). It interprets only the
// opcodes torch emits and an allow-list of globals (OrderedDict, tensor/parameter rebuilders, storage
// classes); it never imports or calls anything. The result is the top-level dict split into tensor
// records (name -> storage key, dtype, offset, shape, stride) and non-tensor entries as JSON.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/tensor.h"

namespace rwkv::io {

struct PickledTensor {
  std::string name;
  std::string storage_key;  // <folder>/data/<storage_key> in the zip
  DType dtype = DType::F32;
  std::int64_t storage_numel = 0;  // elements, as declared by the persistent id
  std::int64_t offset = 0;         // storage offset in elements
  std::vector<std::int64_t> shape;
  std::vector<std::int64_t> stride;  // in elements
};

struct PickleResult {
  std::vector<PickledTensor> tensors;                  // top-level tensors in pickle order
  nlohmann::json metadata = nlohmann::json::object();  // top-level non-tensor entries
  bool ordered_dict = false;                           // top object was a collections.OrderedDict
  bool had_build = false;                              // a BUILD (e.g. `_metadata`) was applied and ignored
};

// Limits that keep malicious input from exhausting memory or time.
struct PickleLimits {
  std::size_t max_json_depth = 64;         // nesting of non-tensor values
  std::size_t max_json_nodes = 1'000'000;  // values visited while converting non-tensor entries
  std::size_t max_rank = 64;               // tensor dimensions
};

// Parses `bytes` as a pickled state dict. `where` names the source in errors ("m.pth: archive/data.pkl").
// Throws rwkv::Error naming the opcode/global and byte offset on anything unsupported or malformed.
PickleResult unpickle_state_dict(std::span<const std::byte> bytes, const std::string& where,
                                 const PickleLimits& limits = {});

}  // namespace rwkv::io

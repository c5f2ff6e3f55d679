// LoadedTensors: what a format reader hands to Checkpoint: tensor views (into the caller's bytes or into
// owned buffers for inflated zip entries), non-tensor metadata, and the owned buffers themselves.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/tensor.h"

namespace rwkv::io {

struct LoadedTensors {
  std::vector<TensorView> tensors;  // file order
  nlohmann::json metadata = nlohmann::json::object();
  std::vector<std::vector<std::byte>> owned;  // inflated entries (moving keeps their buffers)
};

// torch.save zip (see pth_reader.cpp). `name` is used in error messages.
LoadedTensors read_pth(std::span<const std::byte> bytes, const std::string& name);
// safetensors (see safetensors_reader.cpp).
LoadedTensors read_safetensors(std::span<const std::byte> bytes, const std::string& name);

// Shape checks shared by readers: dims >= 0 and the element count fits in int64. Returns numel.
std::int64_t checked_numel(const std::vector<std::int64_t>& shape, const std::string& what);

}  // namespace rwkv::io

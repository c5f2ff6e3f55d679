// write_safetensors: writes tensors (in the given order, contiguous) and a string metadata map to a
// .safetensors file. Non-string metadata values are stored as their JSON text (e.g. "[1, 0]").
#pragma once

#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/named_tensor.h"

namespace rwkv {

void write_safetensors(const std::filesystem::path& path, const std::vector<NamedTensor>& tensors,
                       const nlohmann::json& metadata = nlohmann::json::object());

}  // namespace rwkv

// write_pth: writes a torch.save-compatible checkpoint: a stored (uncompressed) zip holding
// <folder>/data.pkl (pickle protocol 2: a dict or OrderedDict of name -> tensor, plus non-tensor
// entries from `metadata`), one storage per tensor at <folder>/data/<i> aligned to 64 bytes, and
// <folder>/version. ZIP64 records are emitted when sizes or offsets need them (or when forced).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/named_tensor.h"

namespace rwkv {

struct PthWriteOptions {
  std::string folder = "archive";  // top folder inside the zip (torch uses the file stem)
  bool ordered_dict = false;       // collections.OrderedDict instead of dict
  bool metadata_attr = false;  // with ordered_dict: a `_metadata` attribute set by BUILD, like state_dict()
  bool force_zip64 = false;    // ZIP64 records even for small files (for tests)
};

// `metadata`: a JSON object; each entry becomes a top-level non-tensor value (ints, floats, strings, bools,
// null, lists, string-keyed objects).
void write_pth(const std::filesystem::path& path, const std::vector<NamedTensor>& tensors,
               const nlohmann::json& metadata = nlohmann::json::object(),
               const PthWriteOptions& options = {});

}  // namespace rwkv

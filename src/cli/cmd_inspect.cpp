// `rwkv inspect MODEL`: opens a checkpoint (zero copy), detects the model kind and prints one JSON object
// with the container details, the dimensions, the tensor list and any unexpected keys.
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "io/checkpoint.h"
#include "model/detect.h"

namespace rwkv::cli {

namespace {

struct InspectOptions {
  std::string model;
  bool tensors = true;
};

nlohmann::json metadata_json(const nlohmann::json& metadata) {
  // Binary values (pickled bytes) have no JSON spelling: report their size instead.
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [k, v] : metadata.items())
    out[k] = v.is_binary() ? nlohmann::json{{"bytes", v.get_binary().size()}} : v;
  return out;
}

void run_inspect(const InspectOptions& opt) {
  const Checkpoint ckpt = Checkpoint::open(opt.model);
  const ModelInfo info = detect_model(ckpt);
  nlohmann::json out = nlohmann::json::object();
  out["path"] = ckpt.path();
  out["format"] = ckpt.format();
  out["file_size"] = ckpt.file_size();
  out["kind"] = info.kind;
  out["dims"] = info.dims;
  out["n_tensors"] = ckpt.tensors().size();
  if (opt.tensors) {
    auto& list = out["tensors"] = nlohmann::json::array();
    for (const auto& t : ckpt.tensors())
      list.push_back({{"name", t.name}, {"dtype", dtype_name(t.dtype)}, {"shape", t.shape}});
  }
  out["metadata"] = metadata_json(ckpt.metadata());
  out["unknown_keys"] = info.unknown_keys;
  out["ignored_keys"] = info.ignored_keys;
  std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
            << "\n";  // paths may not be UTF-8
}

}  // namespace

void add_inspect_command(CLI::App& app) {
  auto opt = std::make_shared<InspectOptions>();
  CLI::App* cmd = app.add_subcommand(
      "inspect", "Print a checkpoint's format, model kind, dimensions, tensors and metadata as JSON");
  cmd->add_option("MODEL", opt->model, "Checkpoint file: torch.save .pth (zip) or .safetensors")->required();
  cmd->add_flag("--tensors,!--no-tensors", opt->tensors,
                "List every tensor with its dtype and shape (default: on; --no-tensors omits the list)");
  cmd->callback([opt] { run_inspect(*opt); });
}

}  // namespace rwkv::cli

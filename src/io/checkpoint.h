// Checkpoint: a memory-mapped model file (PyTorch .pth zip or safetensors) exposed as tensor views plus
// non-tensor metadata. Never executes pickle code. Owns the mapping; views stay valid while it lives.
// Thread-safe for concurrent reads after open().
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/tensor.h"

namespace rwkv {

class Checkpoint {
 public:
  // Detects the format from the file's first bytes (zip magic -> .pth, otherwise safetensors).
  // Throws rwkv::Error with file, entry/tensor and offset on any malformed input.
  static Checkpoint open(const std::filesystem::path& path);
  // Same, from bytes already in memory (fuzzing, tests); `name` is used in error messages.
  static Checkpoint from_memory(std::vector<std::byte> bytes, const std::string& name);

  Checkpoint(Checkpoint&&) noexcept;
  Checkpoint& operator=(Checkpoint&&) noexcept;
  ~Checkpoint();

  const std::string& path() const;                      // as given to open()
  const std::string& format() const;                    // "pth" or "safetensors"
  const std::vector<TensorView>& tensors() const;       // in file order
  const TensorView* find(std::string_view name) const;  // nullptr if absent
  const TensorView& get(std::string_view name) const;   // throws Error naming file and tensor
  // Non-tensor entries: for .pth, every top-level entry that is not a tensor (e.g. "reranker_layer_idx":
  // [1, 0]); for safetensors, the "__metadata__" string map. Always a JSON object.
  const nlohmann::json& metadata() const;
  std::uint64_t file_size() const;
  // Tells the OS that a tensor's bytes are no longer needed in memory (after they were converted into
  // packed weights), so they stop counting towards the resident set. Reading them later still works.
  void drop_pages(const TensorView& t) const noexcept;
  // Tells the OS that a tensor is read row by row at random (an embedding table): see MappedFile.
  void expect_random_access(const TensorView& t) const noexcept;

 private:
  struct Impl;
  explicit Checkpoint(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rwkv

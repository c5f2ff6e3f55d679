// Checkpoint: owns the file bytes (mmap or memory), detects the container from the first bytes, and
// delegates to the pth or safetensors reader. Lookup by name goes through a hash index.
#include "io/checkpoint.h"

#include <cstring>
#include <unordered_map>

#include "io/loaded_tensors.h"
#include "io/mapped_file.h"
#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv {

struct Checkpoint::Impl {
  MappedFile file;
  std::string path;
  std::string format;
  io::LoadedTensors loaded;
  std::unordered_map<std::string_view, std::size_t> index;

  explicit Impl(MappedFile f);
};

namespace {

bool starts_with(std::span<const std::byte> b, std::string_view magic) {
  return b.size() >= magic.size() && std::memcmp(b.data(), magic.data(), magic.size()) == 0;
}

}  // namespace

Checkpoint::Checkpoint(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Checkpoint::Checkpoint(Checkpoint&&) noexcept = default;
Checkpoint& Checkpoint::operator=(Checkpoint&&) noexcept = default;
Checkpoint::~Checkpoint() = default;

Checkpoint Checkpoint::open(const std::filesystem::path& path) {
  return Checkpoint(std::make_unique<Impl>(MappedFile::open(path)));
}

Checkpoint Checkpoint::from_memory(std::vector<std::byte> bytes, const std::string& name) {
  return Checkpoint(std::make_unique<Impl>(MappedFile::from_memory(std::move(bytes), name)));
}

Checkpoint::Impl::Impl(MappedFile f) : file(std::move(f)), path(file.name()) {
  const auto bytes = file.bytes();
  const std::string& name = path;
  if (starts_with(bytes, "PK\x03\x04") || starts_with(bytes, "PK\x05\x06")) {
    format = "pth";
    loaded = io::read_pth(bytes, name);
  } else if (starts_with(bytes, "\x80") ||
             (bytes.size() > 262 && std::memcmp(bytes.data() + 257, "ustar", 5) == 0)) {
    throw Error(str(name,
                    ": legacy torch serialization not supported; re-save with torch.save(..., "
                    "_use_new_zipfile_serialization=True)"));
  } else {
    format = "safetensors";
    loaded = io::read_safetensors(bytes, name);
  }
  for (std::size_t i = 0; i < loaded.tensors.size(); ++i) index[loaded.tensors[i].name] = i;
}

const std::string& Checkpoint::path() const {
  return impl_->path;
}
const std::string& Checkpoint::format() const {
  return impl_->format;
}
const std::vector<TensorView>& Checkpoint::tensors() const {
  return impl_->loaded.tensors;
}
const nlohmann::json& Checkpoint::metadata() const {
  return impl_->loaded.metadata;
}
void Checkpoint::drop_pages(const TensorView& t) const noexcept {
  if (!t.is_contiguous() || t.numel() <= 0) return;
  impl_->file.drop_pages(t.data, static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype));
}

void Checkpoint::expect_random_access(const TensorView& t) const noexcept {
  if (!t.is_contiguous() || t.numel() <= 0) return;
  impl_->file.expect_random_access(t.data, static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype));
}

std::uint64_t Checkpoint::file_size() const {
  return impl_->file.size();
}

const TensorView* Checkpoint::find(std::string_view name) const {
  const auto it = impl_->index.find(name);
  return it == impl_->index.end() ? nullptr : &impl_->loaded.tensors[it->second];
}

const TensorView& Checkpoint::get(std::string_view name) const {
  if (const TensorView* t = find(name)) return *t;
  throw Error(str(impl_->path, ": tensor '", name, "' not found"));
}

}  // namespace rwkv

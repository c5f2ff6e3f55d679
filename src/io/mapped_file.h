// MappedFile: read-only bytes of a whole file, memory-mapped (open) or owned in memory (from_memory).
// RAII: the mapping lives as long as the object; moving transfers it. Errors name the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace rwkv {

class MappedFile {
 public:
  static MappedFile open(const std::filesystem::path& path);  // throws rwkv::Error naming the file
  static MappedFile from_memory(std::vector<std::byte> bytes, std::string name);

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const std::byte> bytes() const { return {data_, size_}; }
  std::uint64_t size() const { return size_; }
  const std::string& name() const { return name_; }

 private:
  MappedFile() = default;
  void release() noexcept;

  std::string name_;
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  void* mapping_ = nullptr;  // non-null when mmap'ed
  std::vector<std::byte> owned_;
};

}  // namespace rwkv

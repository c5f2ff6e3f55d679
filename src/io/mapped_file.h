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
  // Drops the pages lying wholly inside [p, p + n) from this process's resident set (they stay in the
  // page cache and fault back in if read again). For weights already copied into packed form. A no-op
  // for in-memory files and for ranges outside the mapping.
  void drop_pages(const std::byte* p, std::size_t n) const noexcept;
  // Tells the OS that [p, p + n) is read a few bytes at a time at random places (an embedding table), so
  // that a read maps only its own page instead of its neighbours too. A no-op for in-memory files.
  void expect_random_access(const std::byte* p, std::size_t n) const noexcept;

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

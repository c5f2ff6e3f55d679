// ZipWriter: streams a zip archive to a file: stored entries with data aligned (torch pads the local
// extra field so storages start on 64-byte boundaries), optional raw-deflate entries, and ZIP64 records
// when an offset/size/count needs them or when forced. finish() writes the central directory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <vector>

namespace rwkv::io {

class ZipWriter {
 public:
  explicit ZipWriter(const std::filesystem::path& path, bool force_zip64 = false, std::uint64_t align = 64);
  void add(const std::string& name, std::span<const std::byte> data);           // stored (method 0)
  void add_deflated(const std::string& name, std::span<const std::byte> data);  // deflate (method 8)
  void finish();  // central directory + end records; the archive is incomplete until called

 private:
  struct Entry {
    std::string name;
    std::uint16_t method;
    std::uint32_t crc;
    std::uint64_t compressed, uncompressed, offset;
  };
  void add_entry(const std::string& name, std::uint16_t method, std::uint32_t crc, std::uint64_t uncompressed,
                 std::span<const std::byte> stored);
  void put(const std::vector<std::byte>& bytes);

  std::filesystem::path path_;
  std::ofstream out_;
  bool force_zip64_;
  std::uint64_t align_;
  std::uint64_t pos_ = 0;
  std::vector<Entry> entries_;
};

// CRC-32 (zip polynomial) of a byte range of any length.
std::uint32_t crc32_of(std::span<const std::byte> data);

}  // namespace rwkv::io

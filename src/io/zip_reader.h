// ZipReader: a read-only view of a zip archive held in memory (usually a mapping). Parses the End Of
// Central Directory (with comment and ZIP64 records), the central directory and local headers. Stored
// entries are returned as views into the archive bytes (zero copy); deflated entries are inflated with
// zlib into a caller-provided buffer. Every offset and size is validated against the archive length.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rwkv::io {

struct ZipEntry {
  std::string name;
  std::uint16_t method = 0;  // 0 stored, 8 deflated
  std::uint16_t flags = 0;
  std::uint32_t crc32 = 0;
  std::uint64_t compressed_size = 0;
  std::uint64_t uncompressed_size = 0;
  std::uint64_t local_header_offset = 0;
  std::uint64_t data_offset = 0;  // first byte of the (possibly compressed) data, from the local header
};

class ZipReader {
 public:
  // Parses the archive; throws rwkv::Error naming `file_name`, the entry and the byte offset.
  ZipReader(std::span<const std::byte> bytes, std::string file_name);

  const std::vector<ZipEntry>& entries() const { return entries_; }
  const ZipEntry* find(std::string_view name) const;  // nullptr if absent

  // The uncompressed bytes of an entry. Stored: a view into the archive (`buffer` untouched).
  // Deflated: inflated into `buffer` (exactly uncompressed_size bytes, CRC checked), returns a view of it.
  std::span<const std::byte> read(const ZipEntry& entry, std::vector<std::byte>& buffer) const;

  const std::string& file_name() const { return file_name_; }

 private:
  void parse();
  [[noreturn]] void fail(const std::string& what, std::uint64_t offset) const;

  std::span<const std::byte> bytes_;
  std::string file_name_;
  std::vector<ZipEntry> entries_;
};

}  // namespace rwkv::io

// ZipWriter implementation (APPNOTE 4.3.7 local header, 4.3.12 central header, 4.3.14-16 end records,
// 4.5.3 ZIP64 extra). Dates are fixed at 1980-01-01 so output is reproducible.
#include "io/zip_writer.h"

#include <zlib.h>

#include <algorithm>
#include <limits>

#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv::io {

namespace {

constexpr std::uint64_t k32 = 0xffffffffu;
constexpr std::uint16_t kDosDate = 0x21;  // 1980-01-01

template <typename T>
void le(std::vector<std::byte>& b, T v) {
  for (std::size_t i = 0; i < sizeof(T); ++i)
    b.push_back(static_cast<std::byte>((static_cast<std::uint64_t>(v) >> (8 * i)) & 0xff));
}

}  // namespace

std::uint32_t crc32_of(std::span<const std::byte> data) {
  uLong crc = crc32(0L, Z_NULL, 0);
  constexpr std::size_t kChunk = 1u << 30;
  for (std::size_t done = 0; done < data.size();) {
    const auto n = std::min(kChunk, data.size() - done);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data.data() + done), static_cast<uInt>(n));
    done += n;
  }
  return static_cast<std::uint32_t>(crc);
}

ZipWriter::ZipWriter(const std::filesystem::path& path, bool force_zip64, std::uint64_t align)
    : path_(path), out_(path, std::ios::binary | std::ios::trunc), force_zip64_(force_zip64), align_(align) {
  if (!out_) throw Error(str("cannot create ", path.string()));
}

void ZipWriter::put(const std::vector<std::byte>& bytes) {
  out_.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  pos_ += bytes.size();
}

void ZipWriter::add(const std::string& name, std::span<const std::byte> data) {
  add_entry(name, 0, crc32_of(data), data.size(), data);
}

void ZipWriter::add_deflated(const std::string& name, std::span<const std::byte> data) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw Error("zlib deflateInit2 failed");
  std::vector<std::byte> packed(deflateBound(&zs, static_cast<uLong>(data.size())));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(packed.data());
  zs.avail_out = static_cast<uInt>(packed.size());
  const int rc = deflate(&zs, Z_FINISH);
  packed.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw Error(str("deflate failed for zip entry ", name));
  add_entry(name, 8, crc32_of(data), data.size(), packed);
}

void ZipWriter::add_entry(const std::string& name, std::uint16_t method, std::uint32_t crc,
                          std::uint64_t uncompressed, std::span<const std::byte> stored) {
  const bool zip64 = force_zip64_ || uncompressed >= k32 || stored.size() >= k32;
  std::vector<std::byte> h;
  le<std::uint32_t>(h, 0x04034b50);
  le<std::uint16_t>(h, zip64 ? 45 : 20);
  le<std::uint16_t>(h, 0);  // flags
  le<std::uint16_t>(h, method);
  le<std::uint16_t>(h, 0);  // time
  le<std::uint16_t>(h, kDosDate);
  le<std::uint32_t>(h, crc);
  le<std::uint32_t>(h, zip64 ? k32 : stored.size());
  le<std::uint32_t>(h, zip64 ? k32 : uncompressed);
  le<std::uint16_t>(h, static_cast<std::uint16_t>(name.size()));
  const std::uint64_t z64_len = zip64 ? 20 : 0;
  std::uint64_t pad = 0;
  if (align_ > 1) {
    const std::uint64_t base = pos_ + 30 + name.size() + z64_len + 4;
    pad = (align_ - base % align_) % align_;
  }
  le<std::uint16_t>(h, static_cast<std::uint16_t>(z64_len + (align_ > 1 ? 4 + pad : 0)));
  for (char c : name) h.push_back(static_cast<std::byte>(c));
  if (zip64) {
    le<std::uint16_t>(h, 1);
    le<std::uint16_t>(h, 16);
    le<std::uint64_t>(h, uncompressed);
    le<std::uint64_t>(h, stored.size());
  }
  if (align_ > 1) {
    le<std::uint16_t>(h, 0x4246);  // "FB": padding, as torch writes
    le<std::uint16_t>(h, static_cast<std::uint16_t>(pad));
    h.insert(h.end(), pad, std::byte{'Z'});
  }
  entries_.push_back({name, method, crc, stored.size(), uncompressed, pos_});
  put(h);
  out_.write(reinterpret_cast<const char*>(stored.data()), static_cast<std::streamsize>(stored.size()));
  pos_ += stored.size();
  if (!out_) throw Error(str("cannot write ", path_.string()));
}

void ZipWriter::finish() {
  const std::uint64_t cd_offset = pos_;
  for (const auto& e : entries_) {
    const bool zip64 = force_zip64_ || e.uncompressed >= k32 || e.compressed >= k32 || e.offset >= k32;
    std::vector<std::byte> h;
    le<std::uint32_t>(h, 0x02014b50);
    le<std::uint16_t>(h, zip64 ? 45 : 20);  // made by
    le<std::uint16_t>(h, zip64 ? 45 : 20);  // needed
    le<std::uint16_t>(h, 0);
    le<std::uint16_t>(h, e.method);
    le<std::uint16_t>(h, 0);
    le<std::uint16_t>(h, kDosDate);
    le<std::uint32_t>(h, e.crc);
    le<std::uint32_t>(h, zip64 ? k32 : e.compressed);
    le<std::uint32_t>(h, zip64 ? k32 : e.uncompressed);
    le<std::uint16_t>(h, static_cast<std::uint16_t>(e.name.size()));
    le<std::uint16_t>(h, zip64 ? 28 : 0);
    le<std::uint16_t>(h, 0);  // comment
    le<std::uint16_t>(h, 0);  // disk
    le<std::uint16_t>(h, 0);  // internal attributes
    le<std::uint32_t>(h, 0);  // external attributes
    le<std::uint32_t>(h, zip64 ? k32 : e.offset);
    for (char c : e.name) h.push_back(static_cast<std::byte>(c));
    if (zip64) {
      le<std::uint16_t>(h, 1);
      le<std::uint16_t>(h, 24);
      le<std::uint64_t>(h, e.uncompressed);
      le<std::uint64_t>(h, e.compressed);
      le<std::uint64_t>(h, e.offset);
    }
    put(h);
  }
  const std::uint64_t cd_size = pos_ - cd_offset, count = entries_.size();
  const bool zip64 = force_zip64_ || count >= 0xffff || cd_offset >= k32 || cd_size >= k32;
  std::vector<std::byte> h;
  if (zip64) {
    const std::uint64_t record = pos_;
    le<std::uint32_t>(h, 0x06064b50);
    le<std::uint64_t>(h, 44);
    le<std::uint16_t>(h, 45);
    le<std::uint16_t>(h, 45);
    le<std::uint32_t>(h, 0);
    le<std::uint32_t>(h, 0);
    le<std::uint64_t>(h, count);
    le<std::uint64_t>(h, count);
    le<std::uint64_t>(h, cd_size);
    le<std::uint64_t>(h, cd_offset);
    le<std::uint32_t>(h, 0x07064b50);
    le<std::uint32_t>(h, 0);
    le<std::uint64_t>(h, record);
    le<std::uint32_t>(h, 1);
  }
  le<std::uint32_t>(h, 0x06054b50);
  le<std::uint16_t>(h, 0);
  le<std::uint16_t>(h, 0);
  le<std::uint16_t>(h, zip64 ? 0xffff : count);
  le<std::uint16_t>(h, zip64 ? 0xffff : count);
  le<std::uint32_t>(h, zip64 ? k32 : cd_size);
  le<std::uint32_t>(h, zip64 ? k32 : cd_offset);
  le<std::uint16_t>(h, 0);
  put(h);
  out_.close();
  if (!out_) throw Error(str("cannot write ", path_.string()));
}

}  // namespace rwkv::io

// ZipReader implementation. Layout references: APPNOTE.TXT sections 4.3.6 (local header), 4.3.12
// (central directory header), 4.3.14-16 (ZIP64 EOCD record, locator, EOCD) and 4.5.3 (ZIP64 extra).
#include "io/zip_reader.h"

#include <zlib.h>

#include <algorithm>
#include <limits>

#include "io/byte_reader.h"
#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv::io {

namespace {

constexpr std::uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEocdSig = 0x06054b50;
constexpr std::uint32_t kZip64EocdSig = 0x06064b50, kZip64LocatorSig = 0x07064b50;
constexpr std::uint64_t kEocdSize = 22, kCentralSize = 46, kLocalSize = 30, kZip64EocdSize = 56;
constexpr std::uint64_t kLocatorSize = 20, kMaxComment = 0xffff;
constexpr std::uint32_t k32 = 0xffffffffu;

}  // namespace

ZipReader::ZipReader(std::span<const std::byte> bytes, std::string file_name)
    : bytes_(bytes), file_name_(std::move(file_name)) {
  parse();
}

void ZipReader::fail(const std::string& what, std::uint64_t offset) const {
  throw Error(str(file_name_, ": zip: ", what, " (at byte offset ", offset, ")"));
}

const ZipEntry* ZipReader::find(std::string_view name) const {
  for (const auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

void ZipReader::parse() {
  const std::uint64_t size = bytes_.size();
  if (size < kEocdSize) fail(str("file too short for a zip archive (", size, " bytes)"), 0);

  // 1. End Of Central Directory: the last signature whose comment ends exactly at the end of the file.
  std::uint64_t eocd = 0;
  bool found = false;
  const std::uint64_t lowest = size - kEocdSize > kMaxComment ? size - kEocdSize - kMaxComment : 0;
  for (std::uint64_t pos = size - kEocdSize + 1; pos-- > lowest;) {
    if (load_le<std::uint32_t>(bytes_, pos) != kEocdSig) continue;
    if (pos + kEocdSize + load_le<std::uint16_t>(bytes_, pos + 20) == size) {
      eocd = pos;
      found = true;
      break;
    }
  }
  if (!found) fail("end of central directory record not found (truncated or not a zip file)", size);

  std::uint64_t count = load_le<std::uint16_t>(bytes_, eocd + 10);
  std::uint64_t cd_size = load_le<std::uint32_t>(bytes_, eocd + 12);
  std::uint64_t cd_offset = load_le<std::uint32_t>(bytes_, eocd + 16);
  if (load_le<std::uint16_t>(bytes_, eocd + 4) != 0 || load_le<std::uint16_t>(bytes_, eocd + 6) != 0)
    fail("multi-disk archives are not supported", eocd);

  // 2. ZIP64: a locator just before the EOCD points at the ZIP64 EOCD record with 64-bit fields.
  if (eocd >= kLocatorSize && load_le<std::uint32_t>(bytes_, eocd - kLocatorSize) == kZip64LocatorSig) {
    const std::uint64_t loc = eocd - kLocatorSize;
    const std::uint64_t rec = load_le<std::uint64_t>(bytes_, loc + 8);
    if (!range_ok(rec, kZip64EocdSize, loc))
      fail(str("ZIP64 end of central directory offset ", rec, " is out of range"), loc);
    if (load_le<std::uint32_t>(bytes_, rec) != kZip64EocdSig)
      fail("bad ZIP64 end of central directory signature", rec);
    count = load_le<std::uint64_t>(bytes_, rec + 32);
    cd_size = load_le<std::uint64_t>(bytes_, rec + 40);
    cd_offset = load_le<std::uint64_t>(bytes_, rec + 48);
  } else if (count == 0xffff || cd_size == k32 || cd_offset == k32) {
    fail("ZIP64 sizes signalled but no ZIP64 end of central directory locator", eocd);
  }
  if (!range_ok(cd_offset, cd_size, size))
    fail(str("central directory (offset ", cd_offset, ", size ", cd_size,
             ") extends past the end of the file (", size, " bytes)"),
         eocd);
  if (count > cd_size / kCentralSize)
    fail(str("central directory claims ", count, " entries but holds only ", cd_size, " bytes"), cd_offset);

  // 3. Central directory entries.
  entries_.reserve(static_cast<std::size_t>(count));
  std::uint64_t pos = cd_offset;
  const std::uint64_t cd_end = cd_offset + cd_size;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (!range_ok(pos, kCentralSize, cd_end)) fail(str("central directory entry ", i, " is truncated"), pos);
    if (load_le<std::uint32_t>(bytes_, pos) != kCentralSig)
      fail(str("bad central directory signature for entry ", i), pos);
    ZipEntry e;
    e.flags = load_le<std::uint16_t>(bytes_, pos + 8);
    e.method = load_le<std::uint16_t>(bytes_, pos + 10);
    e.crc32 = load_le<std::uint32_t>(bytes_, pos + 16);
    e.compressed_size = load_le<std::uint32_t>(bytes_, pos + 20);
    e.uncompressed_size = load_le<std::uint32_t>(bytes_, pos + 24);
    const std::uint64_t name_len = load_le<std::uint16_t>(bytes_, pos + 28);
    const std::uint64_t extra_len = load_le<std::uint16_t>(bytes_, pos + 30);
    const std::uint64_t comment_len = load_le<std::uint16_t>(bytes_, pos + 32);
    e.local_header_offset = load_le<std::uint32_t>(bytes_, pos + 42);
    const std::uint64_t var_len = name_len + extra_len + comment_len;
    if (!range_ok(pos + kCentralSize, var_len, cd_end))
      fail(str("central directory entry ", i, " is truncated"), pos);
    e.name.assign(reinterpret_cast<const char*>(bytes_.data() + pos + kCentralSize), name_len);

    // ZIP64 extra field: 64-bit values for exactly those fields that hold 0xffffffff, in this order.
    std::uint64_t x = pos + kCentralSize + name_len;
    const std::uint64_t x_end = x + extra_len;
    while (x + 4 <= x_end) {
      const std::uint16_t id = load_le<std::uint16_t>(bytes_, x);
      const std::uint64_t len = load_le<std::uint16_t>(bytes_, x + 2);
      if (!range_ok(x + 4, len, x_end)) fail(str("extra field of entry '", e.name, "' is truncated"), x);
      if (id == 0x0001) {
        std::uint64_t f = x + 4;
        auto take = [&](std::uint64_t& field) {
          if (field != k32) return;
          if (!range_ok(f, 8, x + 4 + len))
            fail(str("ZIP64 extra field of entry '", e.name, "' is too short"), x);
          field = load_le<std::uint64_t>(bytes_, f);
          f += 8;
        };
        take(e.uncompressed_size);
        take(e.compressed_size);
        take(e.local_header_offset);
      }
      x += 4 + len;
    }
    if (e.flags & 1u) fail(str("entry '", e.name, "' is encrypted"), pos);

    // Local header: its own name/extra lengths decide where the data starts.
    const std::uint64_t lh = e.local_header_offset;
    if (!range_ok(lh, kLocalSize, size))
      fail(str("local header of entry '", e.name, "' at offset ", lh, " is past the end of the file"), pos);
    if (load_le<std::uint32_t>(bytes_, lh) != kLocalSig)
      fail(str("bad local header signature for entry '", e.name, "'"), lh);
    const std::uint64_t lh_vars =
        load_le<std::uint16_t>(bytes_, lh + 26) + std::uint64_t{load_le<std::uint16_t>(bytes_, lh + 28)};
    e.data_offset = lh + kLocalSize + lh_vars;
    if (!range_ok(e.data_offset, e.compressed_size, size))
      fail(str("data of entry '", e.name, "' (offset ", e.data_offset, ", ", e.compressed_size,
               " bytes) extends past the end of the file (", size, " bytes)"),
           lh);
    if (e.method == 0 && e.compressed_size != e.uncompressed_size)
      fail(str("stored entry '", e.name, "' has compressed size ", e.compressed_size,
               " != uncompressed size ", e.uncompressed_size),
           pos);
    entries_.push_back(std::move(e));
    pos += kCentralSize + var_len;
  }
}

std::span<const std::byte> ZipReader::read(const ZipEntry& e, std::vector<std::byte>& buffer) const {
  const auto compressed = bytes_.subspan(e.data_offset, e.compressed_size);
  if (e.method == 0) return compressed;
  if (e.method != 8)
    fail(str("entry '", e.name, "' uses unsupported compression method ", e.method,
             " (only stored and deflate)"),
         e.local_header_offset);
  // Deflate expands at most ~1032:1; a larger declared size is a lie and would only waste memory.
  if (e.uncompressed_size / 1032 > e.compressed_size + 64)
    fail(str("entry '", e.name, "' declares ", e.uncompressed_size, " uncompressed bytes from only ",
             e.compressed_size, " compressed bytes"),
         e.local_header_offset);
  buffer.assign(static_cast<std::size_t>(e.uncompressed_size), std::byte{0});
  z_stream zs{};
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK)
    fail(str("zlib init failed for entry '", e.name, "'"), e.data_offset);
  constexpr std::uint64_t kChunk = std::numeric_limits<uInt>::max() / 2;
  std::uint64_t in_done = 0, out_done = 0;
  int rc = Z_OK;
  while (rc == Z_OK) {
    const auto in_now = std::min<std::uint64_t>(kChunk, compressed.size() - in_done);
    const auto out_now = std::min<std::uint64_t>(kChunk, buffer.size() - out_done);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(compressed.data() + in_done));
    zs.avail_in = static_cast<uInt>(in_now);
    zs.next_out = reinterpret_cast<Bytef*>(buffer.data() + out_done);
    zs.avail_out = static_cast<uInt>(out_now);
    rc = inflate(&zs, Z_NO_FLUSH);
    in_done += in_now - zs.avail_in;
    out_done += out_now - zs.avail_out;
    if (rc == Z_BUF_ERROR) break;  // no progress possible: input or output used up
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    if (rc == Z_OK || rc == Z_BUF_ERROR)
      fail(str("deflated entry '", e.name, "' does not end within its declared sizes (", e.compressed_size,
               " compressed, ", e.uncompressed_size, " uncompressed)"),
           e.data_offset);
    fail(str("corrupt deflate data in entry '", e.name, "'"), e.data_offset + in_done);
  }
  if (out_done != e.uncompressed_size)
    fail(str("entry '", e.name, "' inflated to ", out_done, " bytes but declares ", e.uncompressed_size),
         e.data_offset);
  std::uint64_t crc = crc32(0L, Z_NULL, 0);
  for (std::uint64_t done = 0; done < buffer.size();) {
    const auto n = std::min<std::uint64_t>(kChunk, buffer.size() - done);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(buffer.data() + done), static_cast<uInt>(n));
    done += n;
  }
  if (crc != e.crc32) fail(str("CRC mismatch in entry '", e.name, "'"), e.data_offset);
  return buffer;
}

}  // namespace rwkv::io

// MappedFile implementation: POSIX open/fstat/mmap (read-only, MAP_PRIVATE) with errno-based messages.
#include "io/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv {

namespace {

// Closes a file descriptor on scope exit (the mapping stays valid after close).
struct FdGuard {
  int fd;
  ~FdGuard() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

MappedFile MappedFile::open(const std::filesystem::path& path) {
  MappedFile f;
  f.name_ = path.string();
  FdGuard fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (fd.fd < 0) throw Error(str("cannot open ", f.name_, ": ", std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd.fd, &st) != 0) throw Error(str("cannot stat ", f.name_, ": ", std::strerror(errno)));
  if (!S_ISREG(st.st_mode)) throw Error(str("cannot read ", f.name_, ": not a regular file"));
  f.size_ = static_cast<std::size_t>(st.st_size);
  if (f.size_ == 0) return f;  // mmap of length 0 is invalid; an empty view is fine
  void* p = ::mmap(nullptr, f.size_, PROT_READ, MAP_PRIVATE, fd.fd, 0);
  if (p == MAP_FAILED) throw Error(str("cannot map ", f.name_, ": ", std::strerror(errno)));
  f.mapping_ = p;
  f.data_ = static_cast<const std::byte*>(p);
  return f;
}

MappedFile MappedFile::from_memory(std::vector<std::byte> bytes, std::string name) {
  MappedFile f;
  f.name_ = std::move(name);
  f.owned_ = std::move(bytes);
  f.data_ = f.owned_.data();
  f.size_ = f.owned_.size();
  return f;
}

MappedFile::MappedFile(MappedFile&& other) noexcept {
  *this = std::move(other);
}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    release();
    name_ = std::move(other.name_);
    owned_ = std::move(other.owned_);  // vector move keeps the buffer address
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    mapping_ = std::exchange(other.mapping_, nullptr);
  }
  return *this;
}

MappedFile::~MappedFile() {
  release();
}

void MappedFile::drop_pages(const std::byte* p, std::size_t n) const noexcept {
  if (!mapping_ || p < data_ || n > size_ || p + n > data_ + size_) return;
  const std::uintptr_t page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const std::uintptr_t begin = (reinterpret_cast<std::uintptr_t>(p) + page - 1) / page * page;
  const std::uintptr_t end = (reinterpret_cast<std::uintptr_t>(p) + n) / page * page;
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

void MappedFile::expect_random_access(const std::byte* p, std::size_t n) const noexcept {
  if (!mapping_ || p < data_ || n > size_ || p + n > data_ + size_) return;
  const std::uintptr_t page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const std::uintptr_t begin = reinterpret_cast<std::uintptr_t>(p) / page * page;
  const std::uintptr_t end = reinterpret_cast<std::uintptr_t>(p) + n;
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_RANDOM);
}

void MappedFile::release() noexcept {
  if (mapping_) ::munmap(mapping_, size_);
  mapping_ = nullptr;
  data_ = nullptr;
  size_ = 0;
  owned_.clear();
}

}  // namespace rwkv

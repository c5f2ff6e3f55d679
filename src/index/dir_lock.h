// DirLock: the single-writer lock of an index directory (flock on DIR/writer.lock). The kernel drops it
// when the process ends in any way, kill -9 included, so a crashed writer never leaves it stale.
#pragma once

#include <filesystem>

namespace rwkv::index {

class DirLock {
 public:
  // Throws rwkv::Error naming the directory (and the holder's pid) if another process holds the lock.
  explicit DirLock(const std::filesystem::path& dir);
  ~DirLock();
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace rwkv::index

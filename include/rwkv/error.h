// rwkv::Error: the one exception type for user-facing failures (bad files, flags, requests).
// Messages name the problem precisely: file, tensor or field, and byte offset where one applies.
#pragma once

#include <stdexcept>
#include <string>

namespace rwkv {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace rwkv

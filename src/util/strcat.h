// str(): concatenate values into a std::string with operator<< (g++ 12 has no std::format).
#pragma once

#include <sstream>
#include <string>

namespace rwkv {

template <typename... Args>
std::string str(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}

}  // namespace rwkv

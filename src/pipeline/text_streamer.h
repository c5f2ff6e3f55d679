// TextStreamer: turns the bytes of generated tokens into text pieces that are safe to show as they come.
// Two things are held back until more tokens arrive: a UTF-8 character whose bytes are split between
// tokens, and any tail that could be the start of a stop string (so a stop string spread over several
// tokens is found, and never shown). Every piece is valid UTF-8: bytes that can never form a character are
// replaced with U+FFFD (as a lossy decode does); stop strings are matched on the raw bytes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rwkv {

class TextStreamer {
 public:
  // Throws rwkv::Error if a stop string is empty.
  explicit TextStreamer(std::vector<std::string> stop = {});

  // Adds the bytes of one token and returns the text that can now be shown (possibly empty). When a stop
  // string completes, returns the text before it, drops the rest, and stopped() becomes true; later
  // calls return nothing.
  std::string push(std::string_view token_bytes);
  // No more tokens: everything still held back (an incomplete character becomes U+FFFD).
  std::string finish();

  bool stopped() const { return stopped_; }
  const std::string& matched_stop() const { return matched_; }  // the stop string found, if stopped()

 private:
  std::size_t held_for_stop() const;  // longest tail of pending_ that is a proper prefix of a stop string

  std::vector<std::string> stop_;
  std::string pending_;  // raw bytes not shown yet
  std::string matched_;
  bool stopped_ = false;
};

}  // namespace rwkv

// Stop strings and UTF-8-safe streaming of generated text (see text_streamer.h).
#include "pipeline/text_streamer.h"

#include <algorithm>

#include "rwkv/error.h"
#include "tokenizer/world_utf8.h"
#include "util/strcat.h"

namespace rwkv {

TextStreamer::TextStreamer(std::vector<std::string> stop) : stop_(std::move(stop)) {
  for (std::size_t i = 0; i < stop_.size(); ++i)
    if (stop_[i].empty()) throw Error(str("stop[", i, "]: empty stop string"));
}

std::size_t TextStreamer::held_for_stop() const {
  std::size_t best = 0;
  for (const auto& s : stop_) {
    const std::size_t max_len = std::min(s.size() - 1, pending_.size());
    for (std::size_t len = max_len; len > best; --len) {
      if (std::string_view(pending_).substr(pending_.size() - len) == std::string_view(s).substr(0, len)) {
        best = len;
        break;
      }
    }
  }
  return best;
}

std::string TextStreamer::push(std::string_view token_bytes) {
  if (stopped_) return {};
  pending_.append(token_bytes);
  // Text already shown never ends with the start of a stop string, so a match lies within pending_.
  std::size_t first = std::string::npos;
  for (const auto& s : stop_) {
    const std::size_t at = pending_.find(s);
    if (at < first) {
      first = at;
      matched_ = s;
    }
  }
  if (first != std::string::npos) {
    stopped_ = true;
    std::string out = to_valid_utf8(std::string_view(pending_).substr(0, first), true);
    pending_.clear();
    return out;
  }
  const std::size_t safe =
      utf8_complete_prefix(std::string_view(pending_).substr(0, pending_.size() - held_for_stop()));
  std::string out = to_valid_utf8(std::string_view(pending_).substr(0, safe), true);
  pending_.erase(0, safe);
  return out;
}

std::string TextStreamer::finish() {
  if (stopped_) return {};
  std::string out = to_valid_utf8(pending_, true);
  pending_.clear();
  return out;
}

}  // namespace rwkv

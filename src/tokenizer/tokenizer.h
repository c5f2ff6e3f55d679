// Tokenizer: the interface every text front end (generation, tokenize/detokenize, RWKV-4 prompts) uses,
// whatever the vocabulary. Two implementations: the RWKV World tokenizer (greedy longest match, RWKV-5/6/7
// and EmbeddingRWKV; see world_tokenizer.h) and the GPT-NeoX-20B byte-level BPE (RWKV-4 Pile models; see
// neox_tokenizer.h). Get one with load_tokenizer() (tokenizer_select.h).
//
// Implementations are immutable after loading (internal caches are synchronised): encode and decode may
// be called from several threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rwkv {

using TokenId = std::int32_t;

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // "world" or "20b".
  virtual std::string name() const = 0;

  // Size of the id space: every id encode() produces, and every id decode_bytes() accepts, is below it
  // (World: 65530 = ids 0..65529; 20B: 50277). A model's embedding may have more rows (World models have
  // 65536); ids at or above vocab_size() have no text, and decode_bytes() throws for them.
  virtual std::size_t vocab_size() const = 0;

  // Token ids of `utf8`; no BOS/EOS is added. World: any bytes are accepted (no normalisation). 20B: the
  // text must be valid UTF-8 (rwkv::Error naming the byte offset otherwise); it is NFC-normalised, and
  // added tokens such as "<|endoftext|>" in the text become their ids, as HF `tokenizers` does.
  virtual std::vector<TokenId> encode(std::string_view utf8) const = 0;

  // The concatenated bytes of `ids`. The result may end inside a UTF-8 sequence (one token can hold part
  // of a character), so streaming callers print only utf8_complete_prefix() of it (world_utf8.h) and keep
  // the rest for the next call; a whole decode may also be invalid UTF-8. Special ids decode to their
  // literal text (0 -> "<|endoftext|>"); drop them first with is_special() if unwanted. Throws
  // rwkv::Error naming the id and its position for an id with no text.
  virtual std::string decode_bytes(std::span<const TokenId> ids) const = 0;

  // Control ids that are not text: World 0 and 65535 (EmbeddingRWKV EOS); 20B the added tokens marked
  // special in tokenizer.json (0 "<|endoftext|>", 1 "<|padding|>").
  virtual bool is_special(TokenId id) const = 0;

  // "<|endoftext|>": id 0 in both vocabularies. Generation stops on it.
  virtual TokenId end_of_text() const { return 0; }

  // Convenience: the bytes of one id.
  std::string token_bytes(TokenId id) const { return decode_bytes(std::span<const TokenId>(&id, 1)); }
};

}  // namespace rwkv

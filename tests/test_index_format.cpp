// Document index format: state encodings (exact fp32, bounded rounding for bf16/fp16/int8), record
// checksums, the header's JSON form and the compatibility check that refuses a foreign index.
#include <cmath>
#include <random>

#include "index/index_format.h"
#include "rwkv/error.h"
#include "test_support.h"

namespace rwkv::test {
namespace {

using namespace rwkv::index;

X070State random_state(const X070Dims& d, unsigned seed) {
  X070State s(d);
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 3.0f);
  for (float& x : s.shift) x = n(rng);
  for (float& x : s.wkv) x = n(rng) * 4.0f;
  s.wkv[5] = 0.0f;
  s.wkv[6] = -1e-30f;  // below fp16 range
  return s;
}

X070Dims dims() {
  X070Dims d;
  d.n_layer = 3, d.n_embd = 128, d.n_head = 2, d.head_size = 64;
  return d;
}

TEST(IndexStateCodec, RoundTripWithinEachEncodingsPrecision) {
  const X070Dims d = dims();
  const X070State s = random_state(d, 1);
  for (const StateCodec c : {StateCodec::F32, StateCodec::BF16, StateCodec::F16, StateCodec::Int8}) {
    SCOPED_TRACE(std::string(state_codec_name(c)));
    EXPECT_EQ(parse_state_codec(state_codec_name(c)), c);
    const std::size_t size = state_record_size(d, c);
    std::vector<std::byte> buf(size);
    encode_state_record(s, c, buf.data(), size);
    X070State back(d);
    decode_state_record(buf, c, back, "test");
    // Relative bound per value: exact, 2^-9 (bf16), 2^-11 (fp16); int8: half a step of the block's scale.
    for (std::size_t i = 0; i < s.wkv.size(); ++i) {
      const float x = s.wkv[i], y = back.wkv[i];
      if (c == StateCodec::F32) {
        ASSERT_EQ(x, y) << i;
      } else if (c == StateCodec::Int8) {
        float m = 0;
        const std::size_t b0 = i / kInt8Block * kInt8Block;
        for (std::size_t j = b0; j < std::min(b0 + kInt8Block, s.wkv.size()); ++j)
          m = std::max(m, std::fabs(s.wkv[j]));
        ASSERT_LE(std::fabs(x - y), 0.5f * m / 127.0f * 1.0001f) << i;
      } else {
        const float rel = c == StateCodec::BF16 ? 1.0f / 256 : 1.0f / 1024;
        ASSERT_LE(std::fabs(x - y), rel * std::fabs(x) + 1e-7f) << i;
      }
    }
    EXPECT_EQ(back.wkv[5], 0.0f);
    EXPECT_EQ(s.shift.size(), back.shift.size());
  }
  EXPECT_THROW(parse_state_codec("fp8"), Error);
  // Sizes: 4, 2, 2 and ~1.06 bytes per value.
  const std::size_t values = state_value_count(d);
  EXPECT_EQ(state_record_size(d, StateCodec::F32), 12 + 4 * values);
  EXPECT_EQ(state_record_size(d, StateCodec::BF16), 12 + 2 * values);
  EXPECT_LT(state_record_size(d, StateCodec::Int8), 12 + values + values / 15);
}

TEST(IndexStateCodec, DamagedStateRecordIsRefused) {
  const X070Dims d = dims();
  const X070State s = random_state(d, 2);
  const std::size_t size = state_record_size(d, StateCodec::BF16);
  std::vector<std::byte> buf(size);
  encode_state_record(s, StateCodec::BF16, buf.data(), size);
  X070State back(d);
  auto flipped = buf;
  flipped[100] ^= std::byte{1};
  EXPECT_THROW(decode_state_record(flipped, StateCodec::BF16, back, "doc"), Error);
  EXPECT_THROW(decode_state_record({buf.data(), size - 2}, StateCodec::BF16, back, "doc"), Error);
  EXPECT_THROW(decode_state_record(buf, StateCodec::F16, back, "doc"), Error);  // codec mismatch
  X070Dims other = d;
  other.n_layer = 2;
  X070State small(other);
  try {
    decode_state_record(buf, StateCodec::BF16, small, "doc 'x'");
    FAIL() << "accepted a state of other dimensions";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("doc 'x'"), std::string::npos) << e.what();
  }
}

TEST(IndexRecord, RoundTripAndChecksum) {
  DocRecord r;
  r.id = "é-42";
  r.embedding = {0.5f, -0.25f, 1e-8f, 3.0f};
  r.meta = {{"text", "hello"}, {"title", "t"}};
  const std::string enc = encode_record(r);
  const auto back = decode_record(as_bytes(enc), 4, "rec");
  EXPECT_EQ(back.id, r.id);
  EXPECT_EQ(back.embedding, r.embedding);
  EXPECT_EQ(back.meta, r.meta);
  EXPECT_THROW(decode_record(as_bytes(enc), 8, "rec"), Error);  // other dimension
  for (std::size_t pos : {std::size_t{0}, std::size_t{5}, std::size_t{20}, enc.size() - 1}) {
    std::string bad = enc;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x10);
    EXPECT_THROW(decode_record(as_bytes(bad), 4, "rec"), Error) << pos;
  }
  EXPECT_THROW(decode_record(as_bytes(enc.substr(0, 10)), 4, "rec"), Error);
  EXPECT_EQ(key_from_bytes({key_bytes(0x0102030405060708ULL).data(), 8}), 0x0102030405060708ULL);
  EXPECT_LT(key_bytes(255), key_bytes(256));  // byte order is numeric order
}

IndexHeader sample_header() {
  IndexHeader h;
  h.model_path = "/m/emb.pth";
  h.reranker_path = "/m/rr.pth";
  h.model_fingerprint = 0x1234;
  h.reranker_fingerprint = 0xabcdef0123456789ULL;
  h.tokenizer_fingerprint = 77;
  h.dims = dims();
  h.state_codec = StateCodec::F16;
  return h;
}

TEST(IndexHeaderJson, RoundTripAndValidation) {
  const IndexHeader h = sample_header();
  const auto back = IndexHeader::from_json(h.to_json(), "x");
  EXPECT_EQ(back.to_json(), h.to_json());
  EXPECT_EQ(back.reranker_fingerprint, h.reranker_fingerprint);
  EXPECT_EQ(back.state_codec, StateCodec::F16);
  auto j = h.to_json();
  j["format_version"] = 2;
  EXPECT_THROW(IndexHeader::from_json(j, "x"), Error);
  j = h.to_json();
  j["templates"]["document"] = "changed {document}";  // no longer matches its hash
  EXPECT_THROW(IndexHeader::from_json(j, "x"), Error);
  j = h.to_json();
  j["model"].erase("n_head");
  try {
    IndexHeader::from_json(j, "dir");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.n_head"), std::string::npos) << e.what();
  }
  j = h.to_json();
  j["model"]["n_head"] = 3;  // 3 x 64 != 128
  EXPECT_THROW(IndexHeader::from_json(j, "x"), Error);
  EXPECT_THROW(IndexHeader::from_json(nlohmann::json::array(), "x"), Error);
}

TEST(IndexHeaderJson, CompatibilityNamesEachDifference) {
  const IndexHeader h = sample_header();
  EXPECT_NO_THROW(check_compatible(h, h, "idx"));
  auto expect_refused = [&](const IndexHeader& other, const std::string& word) {
    try {
      check_compatible(h, other, "idx");
      ADD_FAILURE() << "accepted: " << word;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(word), std::string::npos) << e.what();
    }
  };
  IndexHeader o = h;
  o.model_fingerprint = 99;
  expect_refused(o, "embedding model");
  o = h;
  o.reranker_fingerprint = 1;
  expect_refused(o, "reranker");
  o = h;
  o.tokenizer_fingerprint = 1;
  expect_refused(o, "tokenizer");
  o = h;
  o.templ.query_part = "Q: {query}";
  expect_refused(o, "templates");
  o = h;
  o.reranker_fingerprint = 0;  // search without a reranker
  EXPECT_NO_THROW(check_compatible(h, o, "idx"));
}

}  // namespace
}  // namespace rwkv::test

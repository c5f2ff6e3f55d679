// Error handling of the embedding engine: each bad input gives a clear rwkv::Error.
#include <fstream>

#include "golden_fixture.h"
#include "model/x070_state.h"
#include "rwkv/error.h"

namespace rwkv::test {
namespace {

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(EmbedErrors, NoEosTokenOutOfRangeEmptyInput) {
  const auto& g = golden_models();
  const KernelTable& kt = kernels_for(select_isa());
  ThreadPool pool(1);
  const std::vector<TokenId> no_eos{33155, 40213};
  EmbedInput a{no_eos};
  EXPECT_NE(error_of([&] {
              g.bf16->embed({&a, 1}, Task::Retr, true, kt, pool);
            }).find("has no EOS token"),
            std::string::npos);
  const std::vector<TokenId> big{33155, 65536, 65535};
  EmbedInput b{big};
  EXPECT_NE(error_of([&] {
              g.bf16->embed({&b, 1}, Task::Retr, true, kt, pool);
            }).find("token id 65536 at position 1"),
            std::string::npos);
  const std::vector<TokenId> neg{-1, 65535};
  EmbedInput c{neg};
  EXPECT_NE(error_of([&] {
              g.bf16->embed({&c, 1}, Task::Retr, true, kt, pool);
            }).find("outside the vocabulary"),
            std::string::npos);
  EXPECT_NE(error_of([&] { g.bf16->embed({}, Task::Retr, true, kt, pool); }).find("no inputs"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_task("[FOO]"); }).find("unknown task"), std::string::npos);
}

TEST(EmbedErrors, StateRoundTripAndForeignState) {
  const auto& g = golden_models();
  const auto& m = g.bf16->model();
  X070State st = m.zero_state();
  const std::vector<TokenId> ids{33155, 40213};
  SequenceRequest r{ids, &st, {}, nullptr};
  ThreadPool pool(1);
  m.forward({&r, 1}, kernels_for(select_isa()), pool);
  const std::string bytes = serialize_state(st, m.fingerprint());
  const X070State back = deserialize_state(bytes, m.dims(), m.fingerprint(), "mem");
  EXPECT_EQ(back.shift, st.shift);
  EXPECT_EQ(back.wkv, st.wkv);
  EXPECT_EQ(g.fp32->model().fingerprint(), m.fingerprint()) << "bf16/fp32 copies are the same model";
  EXPECT_NE(error_of([&] {
              deserialize_state(bytes, m.dims(), m.fingerprint() ^ 1, "x.state");
            }).find("different model"),
            std::string::npos);
  X070Dims other = m.dims();
  other.n_layer += 1;
  EXPECT_NE(error_of([&] { deserialize_state(bytes, other, m.fingerprint(), "x.state"); }).find("dimensions"),
            std::string::npos);
  std::string corrupt = bytes;
  corrupt[corrupt.size() - 3] ^= 0x40;
  EXPECT_NE(
      error_of([&] { deserialize_state(corrupt, m.dims(), m.fingerprint(), "x.state"); }).find("checksum"),
      std::string::npos);
  EXPECT_NE(error_of([&] {
              deserialize_state(bytes.substr(0, 20), m.dims(), m.fingerprint(), "x.state");
            }).find("x.state"),
            std::string::npos);
  // bf16 storage: lossy but bounded.
  const X070State half = deserialize_state(serialize_state(st, m.fingerprint(), StateDType::BF16), m.dims(),
                                           m.fingerprint(), "m");
  for (std::size_t i = 0; i < st.wkv.size(); ++i)
    ASSERT_NEAR(half.wkv[i], st.wkv[i], std::abs(st.wkv[i]) / 128 + 1e-30);
}

TEST(EmbedErrors, RerankerOfAnotherWidthIsRejected) {
  const auto& g = golden_models();
  X070Dims wider = g.bf16->model().dims();
  wider.n_embd *= 2;
  wider.n_head *= 2;
  auto ck = std::make_shared<const Checkpoint>(Checkpoint::open(golden("reranker-a.bf16.pth")));
  EXPECT_NE(error_of([&] { StateReranker rr(ck, wider); }).find("does not match the embedding model"),
            std::string::npos);
  X070Dims shallow = g.bf16->model().dims();
  shallow.n_layer = 1;
  auto ckb = std::make_shared<const Checkpoint>(Checkpoint::open(golden("reranker-b.bf16.pth")));
  EXPECT_NE(error_of([&] { StateReranker rr(ckb, shallow); }).find("reads embedding layer 1"),
            std::string::npos);
}

TEST(EmbedErrors, RerankerCheckpointIsNotAnEmbeddingModel) {
  auto ck = std::make_shared<const Checkpoint>(Checkpoint::open(golden("reranker-a.bf16.pth")));
  const std::string msg = error_of([&] { Embedder e(ck); });
  EXPECT_NE(msg.find("reranker-a.bf16.pth"), std::string::npos) << msg;
  EXPECT_NE(msg.find("rwkv.blocks."), std::string::npos) << msg;
}

}  // namespace
}  // namespace rwkv::test

// Batch invariance and chunking: a sequence's embedding and state are bit-identical whether it runs
// alone, in a mixed batch of other lengths, in any order, with any chunk size or thread count.
#include <algorithm>
#include <random>

#include "golden_fixture.h"

namespace rwkv::test {
namespace {

std::vector<std::vector<TokenId>> mixed_inputs() {
  const auto& items = golden_models().manifest["embeddings"]["items"];
  std::vector<std::vector<TokenId>> ids;
  for (const auto& it : items) ids.push_back(ids_of(it["ids"]));
  // A long sequence (several chunks) made from the others.
  std::vector<TokenId> longer;
  for (int r = 0; r < 4; ++r)
    for (const auto& v : ids) longer.insert(longer.end(), v.begin(), v.end());
  ids.push_back(longer);
  return ids;
}

TEST(EmbedInvariance, AloneEqualsMixedBatchEveryIsa) {
  const auto& g = golden_models();
  const auto ids = mixed_inputs();
  for (Isa isa : supported_isas()) {
    SCOPED_TRACE(std::string(isa_name(isa)));
    const KernelTable& kt = kernels_for(isa);
    ThreadPool pool1(1), pool2(2);
    std::vector<std::vector<float>> alone;
    for (const auto& v : ids) {
      EmbedInput in{v};
      alone.push_back(g.bf16->embed({&in, 1}, Task::Retr, false, kt, pool1)[0]);
    }
    std::vector<std::size_t> order(ids.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::mt19937 rng(7);
    for (int chunk : {1, 5, 64, 256, 4096}) {
      std::shuffle(order.begin(), order.end(), rng);
      std::vector<EmbedInput> in;
      for (std::size_t i : order) in.push_back({ids[i]});
      auto batch = g.bf16->embed(in, Task::Retr, false, kt, chunk % 2 ? pool1 : pool2, chunk);
      for (std::size_t k = 0; k < order.size(); ++k)
        ASSERT_EQ(batch[k], alone[order[k]])
            << "input " << order[k] << " differs in a batch (chunk " << chunk << ")";
    }
  }
}

TEST(EmbedInvariance, StatesIdenticalAcrossChunkSizes) {
  const auto& g = golden_models();
  const auto ids = mixed_inputs().back();
  const KernelTable& kt = kernels_for(select_isa());
  ThreadPool pool(2);
  X070State ref = g.bf16->model().zero_state();
  SequenceRequest r0{ids, &ref, {}, nullptr};
  g.bf16->model().forward({&r0, 1}, kt, pool, 100000);
  for (int chunk : {1, 3, 17, 128}) {
    X070State st = g.bf16->model().zero_state();
    SequenceRequest r{ids, &st, {}, nullptr};
    g.bf16->model().forward({&r, 1}, kt, pool, chunk);
    EXPECT_EQ(st.shift, ref.shift) << "chunk " << chunk;
    EXPECT_EQ(st.wkv, ref.wkv) << "chunk " << chunk;
  }
  // Splitting the call itself anywhere gives the same state as one pass.
  for (std::size_t cut : {std::size_t{1}, ids.size() / 3, ids.size() - 1}) {
    X070State st = g.bf16->model().zero_state();
    std::span<const TokenId> all(ids);
    SequenceRequest a{all.subspan(0, cut), &st, {}, nullptr};
    g.bf16->model().forward({&a, 1}, kt, pool);
    SequenceRequest b{all.subspan(cut), &st, {}, nullptr};
    g.bf16->model().forward({&b, 1}, kt, pool);
    EXPECT_EQ(st.wkv, ref.wkv) << "cut " << cut;
    EXPECT_EQ(st.shift, ref.shift) << "cut " << cut;
  }
}

}  // namespace
}  // namespace rwkv::test

// AnnIndex over hnswlib's HierarchicalNSW (the only file that includes hnswlib: its header defines
// non-inline functions). Persistence wraps hnswlib's file with a checked sidecar, because hnswlib's own
// loader trusts the sizes it reads.
//
// hnswlib 0.6.2 (Debian 12) prefetches one entry past the end of a full neighbour list when USE_SSE is on,
// a heap over-read that AddressSanitizer reports. NO_MANUAL_VECTORIZATION turns those prefetches (and
// hnswlib's own SIMD distances) off; the inner product below is ours and vectorises without them.
#include "index/ann_index.h"

#include <fcntl.h>
#define NO_MANUAL_VECTORIZATION
#include <hnswlib/hnswlib.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv::index {

namespace {

constexpr int kMetaVersion = 1;
constexpr std::size_t kInitialCapacity = 1024;

void fsync_path(const std::filesystem::path& p, bool directory) {
  const int fd = ::open(p.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) throw Error(str(p.string(), ": cannot open for fsync"));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw Error(str(p.string(), ": fsync failed"));
}

// CRC-32 and size of a file.
std::pair<std::uint32_t, std::uint64_t> file_crc(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw Error(str(p.string(), ": cannot open"));
  std::vector<char> buf(1 << 20);
  uLong c = crc32(0L, Z_NULL, 0);
  std::uint64_t n = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    c = crc32(c, reinterpret_cast<const Bytef*>(buf.data()), static_cast<uInt>(got));
    n += got;
  }
  return {static_cast<std::uint32_t>(c), n};
}

// Dot product with independent partial sums, so that the compiler can vectorise it without -ffast-math.
float dot_product(const float* a, const float* b, std::size_t n) {
  constexpr std::size_t kLanes = 16;
  float acc[kLanes] = {};
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (std::size_t l = 0; l < kLanes; ++l) acc[l] += a[i + l] * b[i + l];
  float tail = 0.0f;
  for (; i < n; ++i) tail += a[i] * b[i];
  for (std::size_t w = kLanes / 2; w > 0; w /= 2)
    for (std::size_t l = 0; l < w; ++l) acc[l] += acc[l + w];
  return acc[0] + tail;
}

float inner_product_distance(const void* a, const void* b, const void* dim) {
  return 1.0f - dot_product(static_cast<const float*>(a), static_cast<const float*>(b),
                            *static_cast<const std::size_t*>(dim));
}

// Inner-product space (distance 1 - a.b) over float vectors of a fixed dimension.
class InnerProductSpace final : public hnswlib::SpaceInterface<float> {
 public:
  explicit InnerProductSpace(std::size_t dim) : dim_(dim) {}
  std::size_t get_data_size() override { return dim_ * sizeof(float); }
  hnswlib::DISTFUNC<float> get_dist_func() override { return inner_product_distance; }
  void* get_dist_func_param() override { return &dim_; }

 private:
  std::size_t dim_;
};

}  // namespace

struct AnnIndex::Impl {
  explicit Impl(int dim) : space(static_cast<std::size_t>(dim)) {}
  InnerProductSpace space;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> hnsw;
};

AnnIndex::AnnIndex(int dim, int m, int ef_construction)
    : dim_(dim), m_(m), ef_construction_(ef_construction), impl_(std::make_unique<Impl>(dim)) {
  impl_->hnsw = std::make_unique<hnswlib::HierarchicalNSW<float>>(&impl_->space, kInitialCapacity,
                                                                  static_cast<std::size_t>(m),
                                                                  static_cast<std::size_t>(ef_construction));
}

AnnIndex::~AnnIndex() = default;

void AnnIndex::add(std::uint64_t key, const float* vec) {
  auto& h = *impl_->hnsw;
  if (h.cur_element_count >= h.max_elements_ && !h.label_lookup_.count(key))
    h.resizeIndex(std::max<std::size_t>(kInitialCapacity, h.max_elements_ * 2));
  h.addPoint(vec, static_cast<hnswlib::labeltype>(key));
}

bool AnnIndex::remove(std::uint64_t key) {
  auto& h = *impl_->hnsw;
  auto it = h.label_lookup_.find(key);
  if (it == h.label_lookup_.end() || h.isMarkedDeleted(it->second)) return false;
  h.markDelete(key);
  return true;
}

bool AnnIndex::contains(std::uint64_t key) const {
  const auto& h = *impl_->hnsw;
  auto it = h.label_lookup_.find(key);
  return it != h.label_lookup_.end() && !h.isMarkedDeleted(it->second);
}

std::size_t AnnIndex::size() const {
  return impl_->hnsw->cur_element_count - impl_->hnsw->num_deleted_;
}

std::size_t AnnIndex::removed() const {
  return impl_->hnsw->num_deleted_;
}

std::vector<std::uint64_t> AnnIndex::keys() const {
  const auto& h = *impl_->hnsw;
  std::vector<std::uint64_t> out;
  for (std::size_t i = 0; i < h.cur_element_count; ++i)
    if (!h.isMarkedDeleted(static_cast<hnswlib::tableint>(i)))
      out.push_back(h.getExternalLabel(static_cast<hnswlib::tableint>(i)));
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<AnnHit> AnnIndex::search(const float* query, std::size_t k, std::size_t ef, bool exact) const {
  auto& h = *impl_->hnsw;
  std::vector<AnnHit> hits;
  if (k == 0 || size() == 0) return hits;
  if (exact) {
    hits.reserve(size());
    for (std::size_t i = 0; i < h.cur_element_count; ++i) {
      const auto id = static_cast<hnswlib::tableint>(i);
      if (h.isMarkedDeleted(id)) continue;
      const auto* v = reinterpret_cast<const float*>(h.getDataByInternalId(id));
      hits.push_back({h.getExternalLabel(id), dot_product(query, v, static_cast<std::size_t>(dim_))});
    }
  } else {
    h.setEf(std::max(ef, k));
    auto q = h.searchKnn(query, k);
    while (!q.empty()) {
      hits.push_back({q.top().second, 1.0f - q.top().first});
      q.pop();
    }
  }
  auto better = [](const AnnHit& a, const AnnHit& b) {
    return a.score > b.score || (a.score == b.score && a.key < b.key);
  };
  if (hits.size() > k) {
    std::partial_sort(hits.begin(), hits.begin() + static_cast<long>(k), hits.end(), better);
    hits.resize(k);
  } else {
    std::sort(hits.begin(), hits.end(), better);
  }
  return hits;
}

void AnnIndex::save(const std::filesystem::path& dir, std::uint64_t seq) const {
  const auto data = dir / "ann.hnsw", meta = dir / "ann.meta";
  const auto data_tmp = dir / "ann.hnsw.tmp", meta_tmp = dir / "ann.meta.tmp";
  impl_->hnsw->saveIndex(data_tmp.string());
  fsync_path(data_tmp, false);
  const auto [crc, bytes] = file_crc(data_tmp);
  const nlohmann::json j = {{"format", "rwkv-ann"},
                            {"format_version", kMetaVersion},
                            {"type", "hnsw"},
                            {"seq", seq},
                            {"dim", dim_},
                            {"M", m_},
                            {"ef_construction", ef_construction_},
                            {"elements", impl_->hnsw->cur_element_count},
                            {"live", size()},
                            {"bytes", bytes},
                            {"crc32", crc}};
  {
    std::ofstream out(meta_tmp, std::ios::binary | std::ios::trunc);
    out << j.dump() << "\n";
    out.close();
    if (!out) throw Error(str(meta_tmp.string(), ": cannot write"));
  }
  fsync_path(meta_tmp, false);
  // A crash between the two renames leaves a meta that does not vouch for the data: rebuilt on open.
  std::filesystem::rename(data_tmp, data);
  std::filesystem::rename(meta_tmp, meta);
  fsync_path(dir, true);
}

std::optional<AnnIndex::Loaded> AnnIndex::load(const std::filesystem::path& dir, int dim, int m,
                                               int ef_construction, std::string* why) {
  const auto data = dir / "ann.hnsw", meta = dir / "ann.meta";
  auto fail = [&](const std::string& reason) -> std::optional<Loaded> {
    if (why) *why = reason;
    return std::nullopt;
  };
  std::error_code ec;
  if (!std::filesystem::exists(meta, ec) || !std::filesystem::exists(data, ec))
    return fail("no saved ANN index");
  std::ifstream in(meta);
  const auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("format", "") != "rwkv-ann" ||
      j.value("format_version", 0) != kMetaVersion)
    return fail("ann.meta is damaged or of another version");
  try {
    if (j.at("dim").get<int>() != dim || j.at("M").get<int>() != m ||
        j.at("ef_construction").get<int>() != ef_construction)
      return fail("ann.meta has other parameters than the index header");
    const auto [crc, bytes] = file_crc(data);
    if (bytes != j.at("bytes").get<std::uint64_t>() || crc != j.at("crc32").get<std::uint32_t>())
      return fail("ann.hnsw does not match ann.meta (size or CRC-32)");
    auto idx = std::make_unique<AnnIndex>(dim, m, ef_construction);
    auto& h = *idx->impl_->hnsw;
    // loadIndex allocates afresh: release what the constructor allocated for the empty graph.
    free(h.data_level0_memory_);
    free(h.linkLists_);
    delete h.visited_list_pool_;
    h.data_level0_memory_ = nullptr;
    h.linkLists_ = nullptr;
    h.visited_list_pool_ = nullptr;
    const std::size_t elements = j.at("elements").get<std::size_t>();
    try {
      h.loadIndex(data.string(), &idx->impl_->space, std::max(kInitialCapacity, elements + elements / 4));
    } catch (...) {
      h.cur_element_count = 0;  // the graph is half-built: let the destructor free only the arrays
      throw;
    }
    if (h.cur_element_count != elements || h.data_size_ != static_cast<std::size_t>(dim) * sizeof(float))
      return fail("ann.hnsw holds another number of vectors than ann.meta says");
    return Loaded{std::move(idx), j.at("seq").get<std::uint64_t>()};
  } catch (const std::exception& e) {
    return fail(str("ann.hnsw cannot be loaded: ", e.what()));
  }
}

}  // namespace rwkv::index

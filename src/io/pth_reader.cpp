// Reader for torch.save zip checkpoints: locates the single <folder>/data.pkl, unpickles it with the
// restricted unpickler, and resolves each tensor to a validated view of <folder>/data/<key>.
#include <unordered_map>

#include "io/byte_reader.h"
#include "io/loaded_tensors.h"
#include "io/pickle.h"
#include "io/zip_reader.h"
#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv::io {

std::int64_t checked_numel(const std::vector<std::int64_t>& shape, const std::string& what) {
  std::int64_t n = 1;
  for (auto d : shape) {
    if (d < 0) throw Error(str(what, ": negative dimension ", d));
    if (!mul_ok(n, d, n)) throw Error(str(what, ": element count overflows"));
  }
  return n;
}

namespace {

// Finds exactly one "<folder>/data.pkl" (folder: any non-empty name without '/').
const ZipEntry& find_data_pkl(const ZipReader& zip, const std::string& name) {
  const ZipEntry* found = nullptr;
  std::string all;
  int count = 0;
  for (const auto& e : zip.entries()) {
    const auto slash = e.name.find('/');
    if (slash == 0 || slash == std::string::npos || e.name.substr(slash) != "/data.pkl") continue;
    found = &e;
    all += (count++ ? ", " : "") + e.name;
  }
  if (count == 0)
    throw Error(str(name, ": no '<folder>/data.pkl' entry in the zip: not a torch.save checkpoint"));
  if (count > 1) throw Error(str(name, ": ambiguous checkpoint: ", count, " data.pkl entries (", all, ")"));
  return *found;
}

// Validates one tensor against its storage and returns the view.
TensorView make_view(const PickledTensor& t, std::span<const std::byte> storage, const std::string& where) {
  const auto esize = static_cast<std::int64_t>(dtype_size(t.dtype));
  std::int64_t declared_bytes = 0;
  if (!mul_ok(t.storage_numel, esize, declared_bytes))
    throw Error(str(where, ": storage size ", t.storage_numel, " elements overflows"));
  if (static_cast<std::uint64_t>(declared_bytes) != storage.size())
    throw Error(str(where, ": storage holds ", storage.size(), " bytes but its persistent id declares ",
                    t.storage_numel, " x ", esize, " = ", declared_bytes, " bytes"));
  if (t.offset < 0) throw Error(str(where, ": negative storage offset ", t.offset));
  const std::int64_t numel = checked_numel(t.shape, where);
  std::int64_t last = t.offset;  // largest element index reached
  for (std::size_t d = 0; d < t.shape.size(); ++d) {
    if (t.stride[d] < 0) throw Error(str(where, ": negative stride ", t.stride[d], " in dimension ", d));
    std::int64_t span = 0;
    if (numel > 0 && (!mul_ok(t.shape[d] - 1, t.stride[d], span) || !add_ok(last, span, last)))
      throw Error(str(where, ": strides overflow"));
  }
  if (numel > 0 ? last >= t.storage_numel : t.offset > t.storage_numel)
    throw Error(str(where, ": shape/stride/offset reach element ", last, " but the storage holds only ",
                    t.storage_numel, " elements"));
  TensorView v;
  v.name = t.name;
  v.dtype = t.dtype;
  v.shape = t.shape;
  v.strides = t.stride;
  v.data = storage.data() + t.offset * esize;
  return v;
}

}  // namespace

LoadedTensors read_pth(std::span<const std::byte> bytes, const std::string& name) {
  ZipReader zip(bytes, name);
  const ZipEntry& pkl = find_data_pkl(zip, name);
  const std::string prefix = pkl.name.substr(0, pkl.name.size() - std::string_view("data.pkl").size());
  LoadedTensors out;
  if (const ZipEntry* bo = zip.find(prefix + "byteorder")) {
    std::vector<std::byte> scratch;
    const auto b = zip.read(*bo, scratch);
    const std::string order(reinterpret_cast<const char*>(b.data()), b.size());
    if (order != "little")
      throw Error(str(name, ": byte order '", order, "' is not supported (only little)"));
  }

  std::vector<std::byte> buffer;
  std::span<const std::byte> pkl_bytes = zip.read(pkl, buffer);
  if (!buffer.empty()) out.owned.push_back(std::move(buffer)), pkl_bytes = out.owned.back();
  PickleResult parsed = unpickle_state_dict(pkl_bytes, str(name, ": ", pkl.name));
  out.metadata = std::move(parsed.metadata);

  std::unordered_map<std::string_view, const ZipEntry*> by_name;
  for (const auto& e : zip.entries()) by_name.emplace(e.name, &e);
  std::unordered_map<std::string, std::span<const std::byte>> storages;
  out.tensors.reserve(parsed.tensors.size());
  for (const auto& t : parsed.tensors) {
    const std::string entry_name = prefix + "data/" + t.storage_key;
    const std::string where = str(name, ": tensor '", t.name, "' (", entry_name, ")");
    auto it = storages.find(t.storage_key);
    if (it == storages.end()) {
      const auto e = by_name.find(entry_name);
      if (e == by_name.end()) throw Error(str(where, ": storage entry missing from the zip"));
      std::vector<std::byte> inflated;
      std::span<const std::byte> data = zip.read(*e->second, inflated);
      if (!inflated.empty()) out.owned.push_back(std::move(inflated)), data = out.owned.back();
      it = storages.emplace(t.storage_key, data).first;
    }
    out.tensors.push_back(make_view(t, it->second, where));
  }
  return out;
}

}  // namespace rwkv::io

// Restricted unpickler implementation. Values live in an arena (vector<Node>) and refer to each other by
// index, so self-referencing containers cannot leak or crash; conversion to JSON is depth- and
// node-bounded. Every opcode's operands are bounds-checked against the input.
#include "io/pickle.h"

#include <bit>
#include <cstring>
#include <string_view>
#include <unordered_map>

#include "io/byte_reader.h"
#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv::io {

namespace {

enum class Kind : std::uint8_t {
  None,
  Bool,
  Int,
  Float,
  Str,
  Bytes,
  List,
  Tuple,
  Dict,
  Global,
  Storage,
  Tensor
};
enum class Callable : std::uint8_t {
  OrderedDict,
  RebuildTensorV2,
  RebuildParameter,
  RebuildParameterWithState,
  Storage
};

struct Node {
  Kind kind = Kind::None;
  std::int64_t i = 0;                // Int/Bool value; Tensor: index into tensors_; Global: Callable
  double f = 0;                      // Float
  std::string s;                     // Str/Bytes; Global: "module.name"; Storage: key
  DType dtype = DType::F32;          // Global storage class / Storage
  std::vector<std::uint32_t> items;  // List/Tuple; Dict: key, value, key, value...
};

struct GlobalInfo {
  std::string_view name;
  Callable callable;
  DType dtype;
};

constexpr GlobalInfo kAllowedGlobals[] = {
    {"collections.OrderedDict", Callable::OrderedDict, DType::F32},
    {"torch._utils._rebuild_tensor_v2", Callable::RebuildTensorV2, DType::F32},
    {"torch._utils._rebuild_parameter", Callable::RebuildParameter, DType::F32},
    {"torch._utils._rebuild_parameter_with_state", Callable::RebuildParameterWithState, DType::F32},
    {"torch.FloatStorage", Callable::Storage, DType::F32},
    {"torch.DoubleStorage", Callable::Storage, DType::F64},
    {"torch.HalfStorage", Callable::Storage, DType::F16},
    {"torch.BFloat16Storage", Callable::Storage, DType::BF16},
    {"torch.LongStorage", Callable::Storage, DType::I64},
    {"torch.IntStorage", Callable::Storage, DType::I32},
    {"torch.ShortStorage", Callable::Storage, DType::I16},
    {"torch.CharStorage", Callable::Storage, DType::I8},
    {"torch.ByteStorage", Callable::Storage, DType::U8},
    {"torch.BoolStorage", Callable::Storage, DType::Bool},
};

class Unpickler {
 public:
  Unpickler(std::span<const std::byte> bytes, const std::string& where, const PickleLimits& limits)
      : in_(bytes), where_(where), limits_(limits) {}

  PickleResult run();

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(str(where_, ": pickle: ", what, " at offset ", op_start_));
  }
  void need(std::uint64_t n) const {
    if (!range_ok(pos_, n, in_.size())) fail(str("truncated operand (needs ", n, " bytes)"));
  }
  template <typename T>
  T read() {
    need(sizeof(T));
    T v = load_le<T>(in_, pos_);
    pos_ += sizeof(T);
    return v;
  }
  std::string read_string(std::uint64_t n) {
    need(n);
    std::string s(reinterpret_cast<const char*>(in_.data() + pos_), static_cast<std::size_t>(n));
    pos_ += n;
    return s;
  }
  std::string read_line() {
    std::string s;
    while (true) {
      need(1);
      const char c = static_cast<char>(in_[pos_++]);
      if (c == '\n') return s;
      if (s.size() >= 512) fail("GLOBAL name too long");
      s.push_back(c);
    }
  }

  std::uint32_t make(Node n) {
    nodes_.push_back(std::move(n));
    return static_cast<std::uint32_t>(nodes_.size() - 1);
  }
  std::uint32_t make_int(std::int64_t v) { return make(Node{Kind::Int, v}); }
  void push(std::uint32_t id) { stack_.push_back(id); }
  std::size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  std::uint32_t pop() {
    if (stack_.size() <= floor()) fail("stack underflow");
    const auto v = stack_.back();
    stack_.pop_back();
    return v;
  }
  std::uint32_t top() const {
    if (stack_.size() <= floor()) fail("stack underflow");
    return stack_.back();
  }
  std::vector<std::uint32_t> pop_mark() {
    if (marks_.empty()) fail("no MARK on the stack");
    const std::size_t m = marks_.back();
    marks_.pop_back();
    std::vector<std::uint32_t> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  Node& at(std::uint32_t id) { return nodes_[id]; }
  Node& expect(std::uint32_t id, Kind k, const char* what) {
    if (nodes_[id].kind != k) fail(what);
    return nodes_[id];
  }

  void do_global(const std::string& module, const std::string& name);
  void do_reduce(std::uint32_t callable, std::uint32_t args, bool newobj);
  void do_persid(std::uint32_t pid);
  std::uint32_t rebuild_tensor(const std::vector<std::uint32_t>& args);
  std::vector<std::int64_t> int_tuple(std::uint32_t id, const char* what);
  nlohmann::json to_json(std::uint32_t id, std::size_t depth, std::size_t& budget);
  std::int64_t read_long(std::uint64_t n);

  std::span<const std::byte> in_;
  const std::string& where_;
  const PickleLimits& limits_;
  std::uint64_t pos_ = 0, op_start_ = 0;
  std::vector<Node> nodes_;
  std::vector<std::uint32_t> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint32_t, std::uint32_t> memo_;
  std::vector<PickledTensor> tensors_;  // name empty until placed in the top-level dict
  std::unordered_map<std::string, std::pair<DType, std::int64_t>> storages_;
  bool had_build_ = false;
};

std::int64_t Unpickler::read_long(std::uint64_t n) {
  if (n > 8) fail(str("integer of ", n, " bytes does not fit in 64 bits"));
  need(n);
  std::uint64_t v = 0;
  for (std::uint64_t k = 0; k < n; ++k)
    v |= std::uint64_t{std::to_integer<std::uint8_t>(in_[pos_ + k])} << (8 * k);
  if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1u) v |= ~std::uint64_t{0} << (8 * n);  // sign-extend
  pos_ += n;
  return static_cast<std::int64_t>(v);
}

void Unpickler::do_global(const std::string& module, const std::string& name) {
  const std::string full = module + "." + name;
  for (const auto& g : kAllowedGlobals) {
    if (g.name == full) {
      Node n{Kind::Global, static_cast<std::int64_t>(g.callable)};
      n.s = full;
      n.dtype = g.dtype;
      push(make(std::move(n)));
      return;
    }
  }
  fail(str("forbidden global ", full));
}

std::vector<std::int64_t> Unpickler::int_tuple(std::uint32_t id, const char* what) {
  const Node& n = at(id);
  if (n.kind != Kind::Tuple && n.kind != Kind::List) fail(str(what, " is not a tuple"));
  if (n.items.size() > limits_.max_rank) fail(str(what, " has ", n.items.size(), " dimensions"));
  std::vector<std::int64_t> out;
  for (auto item : n.items) {
    if (at(item).kind != Kind::Int) fail(str(what, " holds a non-integer"));
    out.push_back(at(item).i);
  }
  return out;
}

std::uint32_t Unpickler::rebuild_tensor(const std::vector<std::uint32_t>& args) {
  // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  if (args.size() != 6 && args.size() != 7)
    fail(str("_rebuild_tensor_v2 takes 6 or 7 arguments, got ", args.size()));
  const Node& storage = expect(args[0], Kind::Storage, "_rebuild_tensor_v2: first argument is not a storage");
  PickledTensor t;
  t.storage_key = storage.s;
  t.dtype = storage.dtype;
  t.storage_numel = storage.i;
  t.offset = expect(args[1], Kind::Int, "_rebuild_tensor_v2: storage offset is not an integer").i;
  t.shape = int_tuple(args[2], "tensor size");
  t.stride = int_tuple(args[3], "tensor stride");
  if (t.shape.size() != t.stride.size())
    fail(str("tensor size has ", t.shape.size(), " dimensions but stride has ", t.stride.size()));
  tensors_.push_back(std::move(t));
  return make(Node{Kind::Tensor, static_cast<std::int64_t>(tensors_.size() - 1)});
}

void Unpickler::do_reduce(std::uint32_t callable, std::uint32_t args_id, bool newobj) {
  const Node& fn = expect(callable, Kind::Global, "REDUCE/NEWOBJ target is not an allowed global");
  const Node& args = expect(args_id, Kind::Tuple, "REDUCE/NEWOBJ arguments are not a tuple");
  const auto c = static_cast<Callable>(fn.i);
  if (c == Callable::OrderedDict) {
    if (!args.items.empty()) fail("collections.OrderedDict called with arguments");
    push(make(Node{Kind::Dict, 1}));  // i = 1 marks an OrderedDict
    return;
  }
  if (newobj) fail(str("NEWOBJ of ", fn.s, " is not allowed"));
  const std::vector<std::uint32_t> items = args.items;  // copy: make() may reallocate nodes_
  switch (c) {
    case Callable::RebuildTensorV2:
      push(rebuild_tensor(items));
      return;
    case Callable::RebuildParameter:
    case Callable::RebuildParameterWithState: {
      const std::size_t want = c == Callable::RebuildParameter ? 3 : 4;
      if (items.size() != want) fail(str(fn.s, " takes ", want, " arguments, got ", items.size()));
      expect(items[0], Kind::Tensor, "parameter data is not a tensor");
      push(items[0]);
      return;
    }
    default:
      fail(str("global ", fn.s, " cannot be called"));
  }
}

void Unpickler::do_persid(std::uint32_t pid_id) {
  // ('storage', <storage class>, key, location, numel)
  const Node& pid = expect(pid_id, Kind::Tuple, "persistent id is not a tuple");
  if (pid.items.size() != 5) fail(str("persistent id has ", pid.items.size(), " fields, expected 5"));
  const Node& tag = expect(pid.items[0], Kind::Str, "persistent id tag is not a string");
  if (tag.s != "storage") fail(str("persistent id tag '", tag.s, "' is not 'storage'"));
  const Node& cls = expect(pid.items[1], Kind::Global, "persistent id storage type is not a global");
  if (static_cast<Callable>(cls.i) != Callable::Storage) fail(str(cls.s, " is not a storage class"));
  const Node& key = expect(pid.items[2], Kind::Str, "storage key is not a string");
  expect(pid.items[3], Kind::Str, "storage location is not a string");
  const std::int64_t numel = expect(pid.items[4], Kind::Int, "storage size is not an integer").i;
  if (numel < 0) fail(str("storage '", key.s, "' has negative size ", numel));
  auto [it, inserted] = storages_.try_emplace(key.s, cls.dtype, numel);
  if (!inserted && (it->second.first != cls.dtype || it->second.second != numel))
    fail(str("storage '", key.s, "' is declared twice with different types or sizes"));
  Node n{Kind::Storage, numel};
  n.s = key.s;
  n.dtype = cls.dtype;
  push(make(std::move(n)));
}

nlohmann::json Unpickler::to_json(std::uint32_t id, std::size_t depth, std::size_t& budget) {
  if (depth > limits_.max_json_depth) fail("non-tensor value nested too deeply");
  if (budget-- == 0) fail("non-tensor values too large");
  const Node& n = at(id);
  switch (n.kind) {
    case Kind::None:
      return nullptr;
    case Kind::Bool:
      return n.i != 0;
    case Kind::Int:
      return n.i;
    case Kind::Float:
      return n.f;
    case Kind::Str:
      return n.s;
    case Kind::Bytes:
      return nlohmann::json::binary(std::vector<std::uint8_t>(n.s.begin(), n.s.end()));
    case Kind::List:
    case Kind::Tuple: {
      auto arr = nlohmann::json::array();
      for (auto item : std::vector<std::uint32_t>(n.items)) arr.push_back(to_json(item, depth + 1, budget));
      return arr;
    }
    case Kind::Dict: {
      const auto items = n.items;
      bool string_keys = true;
      for (std::size_t k = 0; k < items.size(); k += 2)
        string_keys = string_keys && at(items[k]).kind == Kind::Str;
      auto out = string_keys ? nlohmann::json::object() : nlohmann::json::array();
      for (std::size_t k = 0; k < items.size(); k += 2) {
        if (string_keys)
          out[at(items[k]).s] = to_json(items[k + 1], depth + 1, budget);
        else
          out.push_back({to_json(items[k], depth + 1, budget), to_json(items[k + 1], depth + 1, budget)});
      }
      return out;
    }
    case Kind::Tensor: {
      const auto& t = tensors_[static_cast<std::size_t>(n.i)];
      return {{"tensor", {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}}}};
    }
    case Kind::Global:
      return {{"global", n.s}};
    case Kind::Storage:
      return {{"storage", n.s}};
  }
  return nullptr;
}

PickleResult Unpickler::run() {
  std::uint32_t result = 0;
  bool stopped = false;
  while (!stopped) {
    op_start_ = pos_;
    if (pos_ >= in_.size()) fail("input ends without STOP");
    const auto op = std::to_integer<std::uint8_t>(in_[pos_++]);
    switch (op) {
      case 0x80: {  // PROTO
        const auto v = read<std::uint8_t>();
        if (v < 2 || v > 5) fail(str("unsupported pickle protocol ", int{v}));
        break;
      }
      case 0x95:
        read<std::uint64_t>();
        break;  // FRAME: data is contiguous, nothing to do
      case '}':
        push(make(Node{Kind::Dict}));
        break;
      case ']':
        push(make(Node{Kind::List}));
        break;
      case ')':
        push(make(Node{Kind::Tuple}));
        break;
      case '(':
        marks_.push_back(stack_.size());
        break;
      case 't': {
        Node n{Kind::Tuple};
        n.items = pop_mark();
        push(make(std::move(n)));
        break;
      }
      case 0x85:
      case 0x86:
      case 0x87: {  // TUPLE1..3
        Node n{Kind::Tuple};
        n.items.resize(op - 0x84u);
        for (std::size_t k = n.items.size(); k-- > 0;) n.items[k] = pop();
        push(make(std::move(n)));
        break;
      }
      case 'J':
        push(make_int(static_cast<std::int32_t>(read<std::uint32_t>())));
        break;
      case 'K':
        push(make_int(read<std::uint8_t>()));
        break;
      case 'M':
        push(make_int(read<std::uint16_t>()));
        break;
      case 0x8a:
        push(make_int(read_long(read<std::uint8_t>())));
        break;  // LONG1
      case 0x8b:
        push(make_int(read_long(read<std::uint32_t>())));
        break;     // LONG4
      case 'G': {  // BINFLOAT: big-endian double
        need(8);
        std::uint64_t bits = 0;
        for (int k = 0; k < 8; ++k) bits = (bits << 8) | std::to_integer<std::uint8_t>(in_[pos_ + k]);
        pos_ += 8;
        Node n{Kind::Float};
        n.f = std::bit_cast<double>(bits);
        push(make(std::move(n)));
        break;
      }
      case 'X':
      case 0x8c:
      case 0x8d:
      case 'B':
      case 'C':
      case 0x8e: {  // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8, BINBYTES, SHORT_BINBYTES, BINBYTES8
        const bool text = op == 'X' || op == 0x8c || op == 0x8d;
        const std::uint64_t len = (op == 0x8c || op == 'C')    ? read<std::uint8_t>()
                                  : (op == 0x8d || op == 0x8e) ? read<std::uint64_t>()
                                                               : read<std::uint32_t>();
        Node n{text ? Kind::Str : Kind::Bytes};
        n.s = read_string(len);
        if (text && !valid_utf8(n.s)) fail("string is not valid UTF-8");
        push(make(std::move(n)));
        break;
      }
      case 'N':
        push(make(Node{Kind::None}));
        break;
      case 0x88:
        push(make(Node{Kind::Bool, 1}));
        break;
      case 0x89:
        push(make(Node{Kind::Bool, 0}));
        break;
      case 'q':
        memo_[read<std::uint8_t>()] = top();
        break;
      case 'r':
        memo_[read<std::uint32_t>()] = top();
        break;
      case 0x94: {  // MEMOIZE
        const auto idx = static_cast<std::uint32_t>(memo_.size());
        memo_[idx] = top();
        break;
      }
      case 'h':
      case 'j': {
        const std::uint32_t idx = op == 'h' ? read<std::uint8_t>() : read<std::uint32_t>();
        const auto it = memo_.find(idx);
        if (it == memo_.end()) fail(str("memo key ", idx, " not found"));
        push(it->second);
        break;
      }
      case 's': {
        const auto value = pop(), key = pop();
        expect(top(), Kind::Dict, "SETITEM target is not a dict")
            .items.insert(at(top()).items.end(), {key, value});
        break;
      }
      case 'u': {
        auto items = pop_mark();
        if (items.size() % 2) fail("SETITEMS with an odd number of items");
        auto& d = expect(top(), Kind::Dict, "SETITEMS target is not a dict");
        d.items.insert(d.items.end(), items.begin(), items.end());
        break;
      }
      case 'a': {
        const auto value = pop();
        auto& l = expect(top(), Kind::List, "APPEND target is not a list");
        l.items.push_back(value);
        break;
      }
      case 'e': {
        auto items = pop_mark();
        auto& l = expect(top(), Kind::List, "APPENDS target is not a list");
        l.items.insert(l.items.end(), items.begin(), items.end());
        break;
      }
      case 'c': {
        const std::string module = read_line();
        const std::string name = read_line();
        do_global(module, name);
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        const auto name = pop(), module = pop();
        if (at(name).kind != Kind::Str || at(module).kind != Kind::Str)
          fail("STACK_GLOBAL operands are not strings");
        do_global(at(module).s, at(name).s);
        break;
      }
      case 'R':
      case 0x81: {  // REDUCE, NEWOBJ
        const auto args = pop(), callable = pop();
        do_reduce(callable, args, op == 0x81);
        break;
      }
      case 'b': {  // BUILD: state of an OrderedDict (_metadata) or a parameter is ignored
        pop();
        const Kind k = at(top()).kind;
        if (k != Kind::Dict && k != Kind::Tensor) fail("BUILD on an object that is not a dict or tensor");
        had_build_ = true;
        break;
      }
      case 'Q':
        do_persid(pop());
        break;
      case '0':
        pop();
        break;
      case '1':
        pop_mark();
        break;
      case '2':
        push(top());
        break;
      case '.':
        result = pop();
        stopped = true;
        break;
      default:
        fail(str("unsupported opcode 0x", "0123456789abcdef"[op >> 4], "0123456789abcdef"[op & 15]));
    }
  }

  op_start_ = pos_;
  const Node& root = at(result);
  if (root.kind != Kind::Dict) fail("top-level object is not a dict");
  PickleResult out;
  out.ordered_dict = root.i == 1;
  out.had_build = had_build_;
  std::unordered_map<std::string, std::size_t> tensor_index;
  std::size_t budget = limits_.max_json_nodes;
  const auto items = root.items;
  for (std::size_t k = 0; k < items.size(); k += 2) {
    const Node& key = at(items[k]);
    if (key.kind != Kind::Str) fail(str("top-level key ", k / 2, " is not a string"));
    const std::string name = key.s;
    const Node& value = at(items[k + 1]);
    if (value.kind == Kind::Tensor) {
      out.metadata.erase(name);
      PickledTensor t = tensors_[static_cast<std::size_t>(value.i)];
      t.name = name;
      if (auto it = tensor_index.find(name); it != tensor_index.end()) {
        out.tensors[it->second] = std::move(t);  // a repeated key replaces the earlier value, as in Python
      } else {
        tensor_index.emplace(name, out.tensors.size());
        out.tensors.push_back(std::move(t));
      }
    } else {
      if (auto it = tensor_index.find(name); it != tensor_index.end())
        fail(str("key '", name, "' is set twice"));
      out.metadata[name] = to_json(items[k + 1], 0, budget);
    }
  }
  return out;
}

}  // namespace

PickleResult unpickle_state_dict(std::span<const std::byte> bytes, const std::string& where,
                                 const PickleLimits& limits) {
  return Unpickler(bytes, where, limits).run();
}

}  // namespace rwkv::io

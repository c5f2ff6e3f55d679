// What every block forward pass (RWKV-4 and RWKV-7) gets besides its weights and activations: the kernels,
// the thread pool, and an optional observer of the residual stream.
#pragma once

#include <functional>

#include "kernels/dispatch.h"
#include "util/thread_pool.h"

namespace rwkv {

// Observer of the residual stream (debugging and golden tests): called with the layer, the stage
// (kTraceAfterAtt or kTraceAfterFfn) and the activation matrix [rows, C].
enum TraceStage : int { kTraceEmbedding = 0, kTraceAfterAtt = 1, kTraceAfterFfn = 2 };
using ResidualTrace = std::function<void(int layer, TraceStage stage, const float* x, int rows)>;

struct BlockContext {
  const KernelTable& kt;
  ThreadPool& pool;
  const ResidualTrace* trace = nullptr;
};

}  // namespace rwkv

// The cores a kernel may use. A worker process of the runner shares the machine with the other
// workers: while one of them waits (for a vision tower another computes, or at the end of a
// grid), its core is idle, and the runner lends it to the busy ones through a budget file
// (harness/exec/threadBudget.ts) that this process maps and reads before each parallel kernel.
// Work is split by output rows (or batch items and heads), never inside a sum, so a kernel's
// result is the same to the bit on any number of threads.
#pragma once
#include <node_api.h>
#include <cstdint>
#include <functional>

namespace pool {

// Calls fn(lo, hi) on a partition of [0, n) into contiguous ranges, one per thread, on this
// thread and up to threads() − 1 helpers, and returns when every range is done. A call whose
// `work` (multiply-adds, roughly) is below a few hundred thousand runs on this thread alone:
// waking a helper costs more than it would save.
void parallelFor(int64_t n, double work, const std::function<void(int64_t, int64_t)>& fn);

// The threads a kernel may use now: 1 unless useThreads or a budget file says more, and never
// more than the machine's hardware threads.
int threads();

// Exports useThreads(n), useThreadBudget(path, slot) and threads() (see pool.cc).
void registerPool(napi_env env, napi_value exports);

}  // namespace pool

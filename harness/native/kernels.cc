// Native CPU kernels for the TF.js wasm backend, read and written in place on the wasm heap.
//
// The wasm build's batched matmul (attention) runs at ~2-3 GFLOP/s against ~27 for its 2-D
// path; these loops, compiled with -O3 -march=native, vectorise with the host's SIMD width.
// Only plain C++ and Node-API: no BLAS, nothing to download. Optional: the engine falls back
// to the wasm kernels when this addon is not built.
#include <node_api.h>
#include <algorithm>
#include <cstdint>
#include <vector>

#include "gemm.h"
#include "heap.h"
#include "pool.h"

namespace {

// C[b] = op(A[b]) · op(B[b]) (+ bias over C's columns) (+ residual, C's shape) for row-major
// matrices; op = transpose when the flag is set. A batch of 1 broadcasts against the other
// operand's batch. A transposed A is read through strides; a transposed B is first copied into
// row-major scratch (the kernel reads B by rows). The bias and then the residual are added after
// the product, as separate adds would: a dense layer x·W + b and a block's x + (h·W + b) in one kernel.
void batchMatMul(const float* a, const float* b, float* c, const float* bias, const float* residual, int64_t batchA,
                 int64_t batchB, int64_t m, int64_t k, int64_t n, bool transA, bool transB) {
  const int64_t batch = batchA > batchB ? batchA : batchB;
  const int64_t sr = transA ? 1 : k, sk = transA ? m : 1;
  // A transposed B is copied row-major once per distinct batch item, before the threads start.
  std::vector<float> bt(transB ? batchB * k * n : 0);
  for (int64_t p = 0; transB && p < batchB; p++) gemm::transpose(b + p * k * n, k, bt.data() + p * k * n, n, k);
  const float* B0 = transB ? bt.data() : b;
  // The threads share the batch's rows in blocks of 6 (the product's row block): thread ranges
  // of whole blocks, each run as one product per batch item it covers.
  const int64_t blocks = (m + 5) / 6;
  pool::parallelFor(batch * blocks, double(batch) * m * k * n, [&](int64_t lo, int64_t hi) {
    std::vector<float> tail;
    for (int64_t u = lo; u < hi;) {
      const int64_t p = u / blocks, r0 = (u % blocks) * 6;
      const int64_t uEnd = std::min(hi, (p + 1) * blocks), r1 = std::min(m, (uEnd - p * blocks) * 6);
      u = uEnd;
      const float* A = a + (batchA == 1 ? 0 : p) * m * k + r0 * sr;
      const float* B = B0 + (batchB == 1 ? 0 : p) * k * n;
      float* C = c + (p * m + r0) * n;
      gemm::product(A, sr, sk, B, n, C, n, r1 - r0, k, n, tail);
      if (bias)
        for (int64_t i = 0; i < r1 - r0; i++)
          for (int64_t j = 0; j < n; j++) C[i * n + j] += bias[j];
      if (residual) {
        const float* R = residual + (p * m + r0) * n;
        for (int64_t i = 0; i < (r1 - r0) * n; i++) C[i] += R[i];
      }
    }
  });
}

// bmm(heap: Float32Array, aOff, bOff, cOff, biasOff, residualOff, batchA, batchB, m, k, n, transA, transB)
// Offsets are in floats from the start of `heap`; biasOff and residualOff −1 for none (else n
// floats, and C's size).
napi_value Bmm(napi_env env, napi_callback_info info) {
  int64_t v[10], len;
  napi_value flags[2];
  float* heap = heapArgs(env, info, "bmm", 10, v, flags, 2, &len);
  if (!heap) return nullptr;
  bool transA, transB;
  napi_get_value_bool(env, flags[0], &transA);
  napi_get_value_bool(env, flags[1], &transB);
  const int64_t aOff = v[0], bOff = v[1], cOff = v[2], biasOff = v[3], resOff = v[4], batchA = v[5], batchB = v[6], m = v[7],
                k = v[8], n = v[9];
  const int64_t batch = batchA > batchB ? batchA : batchB;
  if (!allInHeap({{aOff, batchA * m * k}, {bOff, batchB * k * n}, {cOff, batch * m * n}}, len) ||
      (biasOff != -1 && !inHeap(biasOff, n, len)) || (resOff != -1 && !inHeap(resOff, batch * m * n, len))) {
    return Throw(env, "bmm: operand outside the heap");
  }
  batchMatMul(heap + aOff, heap + bOff, heap + cOff, biasOff == -1 ? nullptr : heap + biasOff, resOff == -1 ? nullptr : heap + resOff,
              batchA, batchB, m, k, n, transA, transB);
  return nullptr;
}

// out[j] = Σ_i in[i·cols + j]: a sum over the leading axes (every bias gradient), which the wasm
// build runs as a transpose and then a reduction over the last axis.
// Threads take column ranges, each summed over the rows in order.
void sumRows(const float* in, float* out, int64_t rows, int64_t cols) {
  pool::parallelFor(cols, double(rows) * cols, [&](int64_t lo, int64_t hi) {
    for (int64_t j = lo; j < hi; j++) out[j] = 0;
    for (int64_t i = 0; i < rows; i++) {
      const float* __restrict r = in + i * cols;
      float* __restrict o = out;
      for (int64_t j = lo; j < hi; j++) o[j] += r[j];
    }
  });
}

// sumRows(heap: Float32Array, inOff, outOff, rows, cols), offsets in floats.
napi_value SumRows(napi_env env, napi_callback_info info) {
  int64_t v[4], len;
  float* heap = heapArgs(env, info, "sumRows", 4, v, nullptr, 0, &len);
  if (!heap) return nullptr;
  const int64_t inOff = v[0], outOff = v[1], rows = v[2], cols = v[3];
  if (inOff < 0 || outOff < 0 || inOff + rows * cols > len || outOff + cols > len) return Throw(env, "sumRows: operand outside the heap");
  sumRows(heap + inOff, heap + outOff, rows, cols);
  return nullptr;
}

// out[i] = x[indices[i]] for rows of `inner` floats (an embedding lookup); false when an index
// is outside [0, rows). The wasm build's gather computes every element's source through
// generic strides: ~25 ns a float, 12 ms for a decoding batch's 7300 position rows.
bool gatherRows(const float* x, const int32_t* indices, float* out, int64_t rows, int64_t inner, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    if (indices[i] < 0 || indices[i] >= rows) return false;
  for (int64_t i = 0; i < n; i++) __builtin_memcpy(out + i * inner, x + indices[i] * inner, inner * sizeof(float));
  return true;
}

// gatherRows(heap, xOff, indicesOff (int32, in 4-byte words), outOff, rows, inner, n)
napi_value GatherRows(napi_env env, napi_callback_info info) {
  int64_t v[6], len;
  float* heap = heapArgs(env, info, "gatherRows", 6, v, nullptr, 0, &len);
  if (!heap) return nullptr;
  const int64_t rows = v[3], inner = v[4], n = v[5];
  if (!allInHeap({{v[0], rows * inner}, {v[1], n}, {v[2], n * inner}}, len))
    return Throw(env, "gatherRows: operand outside the heap");
  if (!gatherRows(heap + v[0], reinterpret_cast<const int32_t*>(heap + v[1]), heap + v[2], rows, inner, n))
    return Throw(env, "gatherRows: an index is outside the table's rows");
  return nullptr;
}

// The interface version: harness/core/nativeAddon.ts's NATIVE_ABI. Raise both when a kernel's
// arguments change, so that an addon built from older sources is not called with new ones.
constexpr int32_t kAbi = 5;

napi_value Init(napi_env env, napi_value exports) {
  napi_value abi;
  napi_create_int32(env, kAbi, &abi);
  napi_set_named_property(env, exports, "abi", abi);
  exportFunctions(env, exports, {{"bmm", Bmm}, {"sumRows", SumRows}, {"gatherRows", GatherRows}});
  registerFused(env, exports);
  registerAttention(env, exports);
  pool::registerPool(env, exports);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)

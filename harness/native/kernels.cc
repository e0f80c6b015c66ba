// Native CPU kernels for the TF.js wasm backend, read and written in place on the wasm heap.
//
// The wasm build's batched matmul (attention) runs at ~2-3 GFLOP/s against ~27 for its 2-D
// path; these loops, compiled with -O3 -march=native, vectorise with the host's SIMD width.
// Only plain C++ and Node-API: no BLAS, nothing to download. Optional: the engine falls back
// to the wasm kernels when this addon is not built.
#include <node_api.h>
#include <cstdint>
#include <vector>

#include "heap.h"

namespace {

// out[r][c] = in[c][r] for an in-matrix of rows × cols.
void transpose(const float* in, float* out, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < cols; c++) out[c * rows + r] = in[r * cols + c];
}

// Vectors of 16 and 8 floats (GCC/Clang vector extensions; with -march=native one AVX-512 or
// AVX register). Loaded and stored through memcpy: rows of a float array are not aligned to
// the vector size, and memcpy compiles to one unaligned vector move.
typedef float v16 __attribute__((vector_size(64)));
typedef float v8 __attribute__((vector_size(32)));

template <typename V>
inline V load(const float* p) {
  V v;
  __builtin_memcpy(&v, p, sizeof(V));
  return v;
}

// Rows [0, R) of C = A · B for one column block of B (row stride ldb) held in R·NV vector
// registers over the whole k loop: each B row segment is loaded once per R rows of A (register
// blocking), and C (row stride ldc) is written once instead of once per k, its first `cols`
// columns only (a partial block is the matrix's last columns, see batchMatMul). A's element
// (r, kk) is A[r·sr + kk·sk], so a transposed A (the weight gradients' xᵀ·dy) is read in place
// rather than copied. 6 rows × 2 vectors (12 accumulators) keep both FMA pipes busy through
// their latency.
template <int R, int NV, typename V>
inline void microKernel(const float* A, int64_t sr, int64_t sk, const float* B, int64_t ldb, float* C, int64_t ldc, int64_t k,
                        int64_t cols) {
  constexpr int L = sizeof(V) / sizeof(float);
  V acc[R][NV] = {};
  for (int64_t kk = 0; kk < k; kk++) {
    V b[NV];
    for (int v = 0; v < NV; v++) b[v] = load<V>(B + kk * ldb + v * L);
    for (int r = 0; r < R; r++) {
      const float a = A[r * sr + kk * sk];
      for (int v = 0; v < NV; v++) acc[r][v] += a * b[v];
    }
  }
  for (int r = 0; r < R; r++) __builtin_memcpy(C + r * ldc, &acc[r][0], cols * sizeof(float));
}

// Rows [0, R) of C = A · B (m×k times row-major k×n): 32-, 16- and 8-wide column blocks, then
// the last n mod 8 columns from `tail` (those columns of B packed k×8, zero-padded). Every
// element is summed over k in order, whichever block computes it.
template <int R>
void rowBlock(const float* A, int64_t sr, int64_t sk, const float* B, const float* tail, float* C, int64_t k, int64_t n) {
  int64_t j = 0;
  for (; j + 32 <= n; j += 32) microKernel<R, 2, v16>(A, sr, sk, B + j, n, C + j, n, k, 32);
  for (; j + 16 <= n; j += 16) microKernel<R, 1, v16>(A, sr, sk, B + j, n, C + j, n, k, 16);
  for (; j + 8 <= n; j += 8) microKernel<R, 1, v8>(A, sr, sk, B + j, n, C + j, n, k, 8);
  if (j < n) microKernel<R, 1, v8>(A, sr, sk, tail, 8, C + j, n, k, n - j);
}

// C[b] = op(A[b]) · op(B[b]) for row-major matrices; op = transpose when the flag is set.
// A batch of 1 broadcasts against the other operand's batch. A transposed A is read through
// strides; a transposed B is first copied into row-major scratch (the kernel reads B by rows).
// The last n mod 8 columns run as one zero-padded 8-wide block rather than scalar columns,
// which cost as much as the rest of an attention product (n = 76).
void batchMatMul(const float* a, const float* b, float* c, int64_t batchA, int64_t batchB,
                 int64_t m, int64_t k, int64_t n, bool transA, bool transB) {
  const int64_t batch = batchA > batchB ? batchA : batchB;
  const int64_t sr = transA ? 1 : k, sk = transA ? m : 1;
  const int64_t n8 = n - n % 8;  // columns in full 8-wide blocks
  std::vector<float> scratchB(transB ? k * n : 0), tail(n8 < n ? k * 8 : 0);
  for (int64_t p = 0; p < batch; p++) {
    const float* A = a + (batchA == 1 ? 0 : p) * m * k;
    const float* B = b + (batchB == 1 ? 0 : p) * k * n;
    // A broadcast B is prepared once, not per batch item.
    const bool newB = p == 0 || batchB > 1;
    if (transB && newB) transpose(B, scratchB.data(), n, k);
    if (transB) B = scratchB.data();
    if (n8 < n && newB)
      for (int64_t kk = 0; kk < k; kk++)
        for (int64_t j = 0; j < 8; j++) tail[kk * 8 + j] = n8 + j < n ? B[kk * n + n8 + j] : 0.0f;
    float* C = c + p * m * n;
    int64_t i = 0;
    for (; i + 6 <= m; i += 6) rowBlock<6>(A + i * sr, sr, sk, B, tail.data(), C + i * n, k, n);
    for (; i + 4 <= m; i += 4) rowBlock<4>(A + i * sr, sr, sk, B, tail.data(), C + i * n, k, n);
    for (; i < m; i++) rowBlock<1>(A + i * sr, sr, sk, B, tail.data(), C + i * n, k, n);
  }
}

// bmm(heap: Float32Array, aOff, bOff, cOff, batchA, batchB, m, k, n, transA, transB)
// Offsets are in floats from the start of `heap`.
napi_value Bmm(napi_env env, napi_callback_info info) {
  int64_t v[8], len;
  napi_value flags[2];
  float* heap = heapArgs(env, info, "bmm", 8, v, flags, 2, &len);
  if (!heap) return nullptr;
  bool transA, transB;
  napi_get_value_bool(env, flags[0], &transA);
  napi_get_value_bool(env, flags[1], &transB);
  const int64_t aOff = v[0], bOff = v[1], cOff = v[2], batchA = v[3], batchB = v[4], m = v[5], k = v[6], n = v[7];
  const int64_t batch = batchA > batchB ? batchA : batchB;
  if (aOff < 0 || bOff < 0 || cOff < 0 || aOff + batchA * m * k > len || bOff + batchB * k * n > len ||
      cOff + batch * m * n > len) {
    return Throw(env, "bmm: operand outside the heap");
  }
  batchMatMul(heap + aOff, heap + bOff, heap + cOff, batchA, batchB, m, k, n, transA, transB);
  return nullptr;
}

// out[j] = Σ_i in[i·cols + j]: a sum over the leading axes (every bias gradient), which the wasm
// build runs as a transpose and then a reduction over the last axis.
void sumRows(const float* in, float* out, int64_t rows, int64_t cols) {
  for (int64_t j = 0; j < cols; j++) out[j] = 0;
  for (int64_t i = 0; i < rows; i++) {
    const float* __restrict r = in + i * cols;
    float* __restrict o = out;
    for (int64_t j = 0; j < cols; j++) o[j] += r[j];
  }
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

napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "bmm", NAPI_AUTO_LENGTH, Bmm, nullptr, &fn);
  napi_set_named_property(env, exports, "bmm", fn);
  napi_create_function(env, "sumRows", NAPI_AUTO_LENGTH, SumRows, nullptr, &fn);
  napi_set_named_property(env, exports, "sumRows", fn);
  registerFused(env, exports);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)

// Fused kernels for what dominates a training step after the matmuls: on the wasm backend each
// of these is a chain of 4-12 elementwise kernels, every one a pass over memory (plus a copy
// of each input the tape keeps). Here each is one pass per row (layer norm, softmax) or per
// element (GELU, Adam), read and written in place on the wasm heap like kernels.cc.
#include <cmath>
#include <cstdint>
#include <vector>

#include "heap.h"
#include "pool.h"
#include "rowops.h"

using rowops::fastExp;
using rowops::lanesSum;

namespace {

// GELU as the models define it, x·σ(1.702x) (models/layers.ts).
constexpr float kGeluScale = 1.702f;

inline float sigmoid(float z) { return 1.0f / (1.0f + fastExp(-z)); }

// Threads (pool.h) split every kernel here by rows, elements or columns, never inside a sum.
// Work estimates count ~10 operations per element.
void geluForward(const float* __restrict x, float* __restrict y, int64_t n) {
  pool::parallelFor(n, 10.0 * n, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; i++) y[i] = x[i] * sigmoid(kGeluScale * x[i]);
  });
}

// d/dx x·σ(ax) = σ(ax) + a·x·σ(ax)(1 − σ(ax)).
void geluBackward(const float* __restrict x, const float* __restrict dy, float* __restrict dx, int64_t n) {
  pool::parallelFor(n, 10.0 * n, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; i++) {
      const float s = sigmoid(kGeluScale * x[i]);
      dx[i] = dy[i] * (s + kGeluScale * x[i] * s * (1.0f - s));
    }
  });
}

// Mean and sqrt(variance + eps) of one row, variance over the row (biased), as tf.moments.
inline void rowStats(const float* x, int64_t d, float eps, float* mean, float* sd) {
  const float m = lanesSum(d, [&](int64_t j) { return x[j]; }) / static_cast<float>(d);
  const float sq = lanesSum(d, [&](int64_t j) { return (x[j] - m) * (x[j] - m); });
  *mean = m;
  *sd = std::sqrt(sq / static_cast<float>(d) + eps);
}

// y = (x − mean)/sqrt(var + eps)·g + b over rows of length d.
void layerNormForward(const float* x, const float* g, const float* b, float* y, int64_t rows, int64_t d, float eps) {
  pool::parallelFor(rows, 10.0 * rows * d, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; r++) {
      const float* xr = x + r * d;
      float* yr = y + r * d;
      float mean, sd;
      rowStats(xr, d, eps, &mean, &sd);
      for (int64_t j = 0; j < d; j++) yr[j] = (xr[j] - mean) / sd * g[j] + b[j];
    }
  });
}

// With x̂ = (x − mean)/sd: db = Σ_rows dy, dg = Σ_rows dy·x̂, and
// dx = (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))/sd where ĝ = dy·g. Statistics are recomputed from x
// (d is small) rather than kept from the forward pass. dx goes by rows; dg and db, sums over
// rows, by columns, each summed over the rows in order.
void layerNormBackward(const float* x, const float* g, const float* dy, float* dx, float* dg, float* db, int64_t rows,
                       int64_t d, float eps) {
  std::vector<float> means(rows), sds(rows);
  pool::parallelFor(rows, 10.0 * rows * d, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; r++) {
      const float* xr = x + r * d;
      const float* dyr = dy + r * d;
      float* dxr = dx + r * d;
      float mean, sd;
      rowStats(xr, d, eps, &mean, &sd);
      means[r] = mean;
      sds[r] = sd;
      const float sumG = lanesSum(d, [&](int64_t j) { return dyr[j] * g[j]; });
      const float sumGX = lanesSum(d, [&](int64_t j) { return dyr[j] * g[j] * ((xr[j] - mean) / sd); });
      const float meanG = sumG / static_cast<float>(d), meanGX = sumGX / static_cast<float>(d);
      for (int64_t j = 0; j < d; j++) dxr[j] = (dyr[j] * g[j] - meanG - (xr[j] - mean) / sd * meanGX) / sd;
    }
  });
  pool::parallelFor(d, 3.0 * rows * d, [&](int64_t lo, int64_t hi) {
    for (int64_t j = lo; j < hi; j++) dg[j] = db[j] = 0;
    for (int64_t r = 0; r < rows; r++) {
      const float* xr = x + r * d;
      const float* dyr = dy + r * d;
      for (int64_t j = lo; j < hi; j++) {
        dg[j] += dyr[j] * ((xr[j] - means[r]) / sds[r]);
        db[j] += dyr[j];
      }
    }
  });
}

// Softmax over rows of length n, max-subtracted.
void softmaxForward(const float* x, float* y, int64_t rows, int64_t n) {
  pool::parallelFor(rows, 10.0 * rows * n, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; r++) rowops::softmaxRow(x + r * n, y + r * n, n);
  });
}

// dx = y·(dy − Σ dy·y) per row.
void softmaxBackward(const float* y, const float* dy, float* dx, int64_t rows, int64_t n) {
  pool::parallelFor(rows, 5.0 * rows * n, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; r++) rowops::softmaxGradRow(y + r * n, dy + r * n, dx + r * n, n, 1.0f);
  });
}

// One parameter's Adam update, operation for operation as tfjs's AdamOptimizer in float32:
//   m' = m·β1 + g·(1−β1); v' = v·β2 + g²·(1−β2);
//   w' = (m'/(1−β1ᵗ)) / (sqrt(v'/(1−β2ᵗ)) + ε) · (−lr) + w.
// Contraction into fused multiply-adds is off so that each product is rounded as the wasm
// kernels round it: the update is then bit-identical to the stock optimizer's.
struct AdamScalars {
  float b1, omb1, b2, omb2, omab1, omab2, eps, negLr;
};
__attribute__((optimize("fp-contract=off"))) void adamUpdate(const float* __restrict w, const float* __restrict m,
                                                             const float* __restrict v, const float* __restrict g,
                                                             float* __restrict w2, float* __restrict m2, float* __restrict v2,
                                                             int64_t n, const AdamScalars& s) {
  for (int64_t i = 0; i < n; i++) {
    const float mi = m[i] * s.b1 + g[i] * s.omb1;
    const float vi = v[i] * s.b2 + (g[i] * g[i]) * s.omb2;
    m2[i] = mi;
    v2[i] = vi;
    w2[i] = (mi / s.omab1) / (std::sqrt(vi / s.omab2) + s.eps) * s.negLr + w[i];
  }
}

// gelu(heap, xOff, yOff, n)
napi_value Gelu(napi_env env, napi_callback_info info) {
  int64_t v[3], len;
  float* heap = heapArgs(env, info, "gelu", 3, v, nullptr, 0, &len);
  if (!heap) return nullptr;
  if (!allInHeap({{v[0], v[2]}, {v[1], v[2]}}, len)) return Throw(env, "gelu: operand outside the heap");
  geluForward(heap + v[0], heap + v[1], v[2]);
  return nullptr;
}

// geluGrad(heap, xOff, dyOff, dxOff, n)
napi_value GeluGrad(napi_env env, napi_callback_info info) {
  int64_t v[4], len;
  float* heap = heapArgs(env, info, "geluGrad", 4, v, nullptr, 0, &len);
  if (!heap) return nullptr;
  for (int i = 0; i < 3; i++)
    if (!inHeap(v[i], v[3], len)) return Throw(env, "geluGrad: operand outside the heap");
  geluBackward(heap + v[0], heap + v[1], heap + v[2], v[3]);
  return nullptr;
}

// layerNorm(heap, xOff, gOff, bOff, yOff, rows, d, eps)
napi_value LayerNorm(napi_env env, napi_callback_info info) {
  int64_t v[6], len;
  napi_value eps;
  float* heap = heapArgs(env, info, "layerNorm", 6, v, &eps, 1, &len);
  if (!heap) return nullptr;
  const int64_t rows = v[4], d = v[5];
  if (d < 1 || !allInHeap({{v[0], rows * d}, {v[1], d}, {v[2], d}, {v[3], rows * d}}, len))
    return Throw(env, "layerNorm: operand outside the heap");
  layerNormForward(heap + v[0], heap + v[1], heap + v[2], heap + v[3], rows, d, floatArg(env, eps));
  return nullptr;
}

// layerNormGrad(heap, xOff, gOff, dyOff, dxOff, dgOff, dbOff, rows, d, eps)
napi_value LayerNormGrad(napi_env env, napi_callback_info info) {
  int64_t v[8], len;
  napi_value eps;
  float* heap = heapArgs(env, info, "layerNormGrad", 8, v, &eps, 1, &len);
  if (!heap) return nullptr;
  const int64_t rows = v[6], d = v[7];
  if (d < 1 || !allInHeap({{v[0], rows * d}, {v[1], d}, {v[2], rows * d}, {v[3], rows * d}, {v[4], d}, {v[5], d}}, len))
    return Throw(env, "layerNormGrad: operand outside the heap");
  layerNormBackward(heap + v[0], heap + v[1], heap + v[2], heap + v[3], heap + v[4], heap + v[5], rows, d, floatArg(env, eps));
  return nullptr;
}

// softmax(heap, xOff, yOff, rows, n)
napi_value Softmax(napi_env env, napi_callback_info info) {
  int64_t v[4], len;
  float* heap = heapArgs(env, info, "softmax", 4, v, nullptr, 0, &len);
  if (!heap) return nullptr;
  const int64_t size = v[2] * v[3];
  if (v[3] < 1 || !allInHeap({{v[0], size}, {v[1], size}}, len)) return Throw(env, "softmax: operand outside the heap");
  softmaxForward(heap + v[0], heap + v[1], v[2], v[3]);
  return nullptr;
}

// softmaxGrad(heap, yOff, dyOff, dxOff, rows, n)
napi_value SoftmaxGrad(napi_env env, napi_callback_info info) {
  int64_t v[5], len;
  float* heap = heapArgs(env, info, "softmaxGrad", 5, v, nullptr, 0, &len);
  if (!heap) return nullptr;
  const int64_t size = v[3] * v[4];
  for (int i = 0; i < 3; i++)
    if (!inHeap(v[i], size, len)) return Throw(env, "softmaxGrad: operand outside the heap");
  softmaxBackward(heap + v[0], heap + v[1], heap + v[2], v[3], v[4]);
  return nullptr;
}

// adam(heap, table: Float64Array, b1, 1−b1, b2, 1−b2, 1−b1ᵗ, 1−b2ᵗ, eps, −lr): every parameter
// in one call. `table` holds 8 numbers per parameter: offsets of w, m, v, g, w', m', v', then
// its size. The scalars arrive as float32 values (the caller rounds them as tfjs does).
napi_value Adam(napi_env env, napi_callback_info info) {
  int64_t len;
  napi_value rest[9];
  float* heap = heapArgs(env, info, "adam", 0, nullptr, rest, 9, &len);
  if (!heap) return nullptr;
  napi_typedarray_type type;
  size_t count;
  void* data;
  napi_value arraybuffer;
  size_t byteOffset;
  if (napi_get_typedarray_info(env, rest[0], &type, &count, &data, &arraybuffer, &byteOffset) != napi_ok ||
      type != napi_float64_array || count % 8 != 0)
    return Throw(env, "adam: table must be a Float64Array of 8 numbers per parameter");
  const double* table = static_cast<const double*>(data);
  AdamScalars s;
  float* fields[] = {&s.b1, &s.omb1, &s.b2, &s.omb2, &s.omab1, &s.omab2, &s.eps, &s.negLr};
  for (int i = 0; i < 8; i++) *fields[i] = floatArg(env, rest[1 + i]);
  for (size_t p = 0; p < count; p += 8) {
    const int64_t n = static_cast<int64_t>(table[p + 7]);
    for (int i = 0; i < 7; i++)
      if (!inHeap(static_cast<int64_t>(table[p + i]), n, len)) return Throw(env, "adam: operand outside the heap");
  }
  for (size_t p = 0; p < count; p += 8) {
    const auto at = [&](int i) { return heap + static_cast<int64_t>(table[p + i]); };
    const int64_t n = static_cast<int64_t>(table[p + 7]);
    pool::parallelFor(n, 10.0 * n, [&](int64_t lo, int64_t hi) {
      adamUpdate(at(0) + lo, at(1) + lo, at(2) + lo, at(3) + lo, at(4) + lo, at(5) + lo, at(6) + lo, hi - lo, s);
    });
  }
  return nullptr;
}

}  // namespace

void registerFused(napi_env env, napi_value exports) {
  exportFunctions(env, exports, {{"gelu", Gelu}, {"geluGrad", GeluGrad}, {"layerNorm", LayerNorm}, {"layerNormGrad", LayerNormGrad},
                                 {"softmax", Softmax}, {"softmaxGrad", SoftmaxGrad}, {"adam", Adam}});
}

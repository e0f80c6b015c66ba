// Row operations shared by the fused kernels (fused.cc) and the fused attention (attention.cc):
// a vectorisable e^x, 16-lane sums and maxima, and softmax forward and backward over one row.
#pragma once
#include <cstdint>
#ifdef __AVX512F__
#include <immintrin.h>
#endif

namespace rowops {

// e^r for r = x − n·ln2 (ln2 split in two so that n·ln2 is exact, |r| ≤ ln2/2) by its Taylor
// series to r⁷ (error < 1e-8); T is float or a vector of floats.
template <typename T>
inline T expReduced(T n, T x) {
  const T r = (x - n * 0.693145751953125f) - n * 1.42860677e-6f;
  T p = r * 0.0f + 1.0f / 5040;
  p = p * r + 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  return p;
}

// e^x to ~1 ulp in plain float arithmetic, so that loops over it vectorise (libm's expf does
// not, and then costs more than the wasm kernels it replaces): x = n·ln2 + r with |r| ≤ ln2/2
// (ln2 split in two so that n·ln2 is exact), e^r by its Taylor series to r⁷ (error < 1e-8), 2ⁿ
// built in the exponent bits. x is clamped to [−87.3, 88.3], where e^x and 2ⁿ are normal floats,
// and below −87.3 the result is 0 (by masking 2ⁿ's bits: a select would keep the loop scalar).
// Not ~1e-38: a masked attention score's weight would then be a denormal, and every product
// with one costs ~100 cycles.
inline float fastExp(float x) {
  const float xc = x < -87.3f ? -87.3f : (x > 88.3f ? 88.3f : x);
  // Round to nearest by adding and removing 1.5·2²³ (floorf would keep the loop scalar).
  const float n = (xc * 1.44269504f + 12582912.0f) - 12582912.0f;
  const float p = expReduced(n, xc);
  const int32_t keep = -static_cast<int32_t>(x >= -87.3f);  // all ones, or 0 below the range
  return p * __builtin_bit_cast(float, ((static_cast<int32_t>(n) + 127) << 23) & keep);
}

// Σ f(j) for j < n in 16 independent partial sums, so that the loop vectorises: one accumulator
// is a chain of dependent adds, which the compiler may not reorder.
template <typename F>
inline float lanesSum(int64_t n, F f) {
  float acc[16] = {};
  int64_t j = 0;
  for (; j + 16 <= n; j += 16)
    for (int l = 0; l < 16; l++) acc[l] += f(j + l);
  float s = 0;
  for (; j < n; j++) s += f(j);
  for (int l = 0; l < 16; l++) s += acc[l];
  return s;
}

// max_j x[j] (n ≥ 1), in 16 lanes likewise.
inline float lanesMax(const float* x, int64_t n) {
  float acc[16];
  for (int l = 0; l < 16; l++) acc[l] = x[0];
  int64_t j = 0;
  for (; j + 16 <= n; j += 16)
    for (int l = 0; l < 16; l++) acc[l] = x[j + l] > acc[l] ? x[j + l] : acc[l];
  float m = x[0];
  for (; j < n; j++) m = x[j] > m ? x[j] : m;
  for (int l = 0; l < 16; l++) m = acc[l] > m ? acc[l] : m;
  return m;
}

// Vectors of 16 floats and of 16 int32 (GCC/Clang vector extensions).
typedef float v16 __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));

inline v16 loadV(const float* p) {
  v16 v;
  __builtin_memcpy(&v, p, sizeof(v));
  return v;
}

// The first `count` (< 16) floats of p in a vector whose other lanes are `fill`, and the first
// `count` lanes of v stored to p: a row's tail, so that it runs through the same vector code as
// the rest (scalar tails cost as much as the vector body on rows of 76). With AVX-512, masked
// moves; elsewhere through a buffer.
inline v16 loadTail(const float* p, int64_t count, float fill) {
#ifdef __AVX512F__
  return (v16)_mm512_mask_loadu_ps(_mm512_set1_ps(fill), static_cast<__mmask16>((1u << count) - 1), p);
#else
  float buf[16];
  for (int l = 0; l < 16; l++) buf[l] = fill;
  __builtin_memcpy(buf, p, count * sizeof(float));
  return loadV(buf);
#endif
}

inline void storeTail(float* p, v16 v, int64_t count) {
#ifdef __AVX512F__
  _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << count) - 1), (__m512)v);
#else
  __builtin_memcpy(p, &v, count * sizeof(float));
#endif
}

// fastExp on 16 lanes, the same steps.
inline v16 fastExpV(v16 x) {
  const v16 lo = v16{} - 87.3f, hi = v16{} + 88.3f;
  const v16 xc = x < lo ? lo : (x > hi ? hi : x);
  const v16 n = (xc * 1.44269504f + 12582912.0f) - 12582912.0f;
  const v16 p = expReduced(n, xc);
  const v16i keep = x >= lo;  // all ones, or 0 below the range
  return p * __builtin_bit_cast(v16, ((__builtin_convertvector(n, v16i) + 127) << 23) & keep);
}

// Sum and maximum of the 16 lanes, by halving (a chain of 16 dependent scalar steps per row
// costs as much as the row's arithmetic).
inline float hsum(v16 v) {
#ifdef __AVX512F__
  return _mm512_reduce_add_ps((__m512)v);
#else
  float s = 0;
  for (int l = 0; l < 16; l++) s += v[l];
  return s;
#endif
}

inline float hmax(v16 v) {
#ifdef __AVX512F__
  return _mm512_reduce_max_ps((__m512)v);
#else
  float m = v[0];
  for (int l = 1; l < 16; l++) m = v[l] > m ? v[l] : m;
  return m;
#endif
}

// Softmax of one row of length n (max-subtracted), 16 lanes at a time; y may be x (in place,
// slower: each store then waits on the loads it may alias).
inline void softmaxRow(const float* x, float* y, int64_t n) {
  const int64_t body = n - n % 16, rest = n % 16;
  v16 mv = v16{} - __builtin_inff();
  for (int64_t j = 0; j < body; j += 16) {
    const v16 v = loadV(x + j);
    mv = v > mv ? v : mv;
  }
  if (rest) {
    const v16 v = loadTail(x + body, rest, -__builtin_inff());
    mv = v > mv ? v : mv;
  }
  const float mx = hmax(mv);
  v16 sv = {};
  for (int64_t j = 0; j < body; j += 16) {
    const v16 e = fastExpV(loadV(x + j) - mx);
    __builtin_memcpy(y + j, &e, sizeof(e));
    sv += e;
  }
  // Padding lanes are −∞: e^(−∞) is 0 and adds nothing to the sum.
  const v16 et = rest ? fastExpV(loadTail(x + body, rest, -__builtin_inff()) - mx) : v16{};
  sv += et;
  const float inv = 1.0f / hsum(sv);  // one division per row, a product per element
  for (int64_t j = 0; j < body; j += 16) {
    const v16 q = loadV(y + j) * inv;
    __builtin_memcpy(y + j, &q, sizeof(q));
  }
  if (rest) storeTail(y + body, et * inv, rest);
}

// dx = y·(dy − Σ dy·y)·scale over one row (scale: the gradient of a scaling before the softmax;
// the product y·(dy − Σ) is rounded first, as a separate multiply would round it).
inline void softmaxGradRow(const float* y, const float* dy, float* dx, int64_t n, float scale) {
  const int64_t body = n - n % 16, rest = n % 16;
  v16 dv = {};
  for (int64_t j = 0; j < body; j += 16) dv += loadV(dy + j) * loadV(y + j);
  const v16 yt = rest ? loadTail(y + body, rest, 0) : v16{}, dyt = rest ? loadTail(dy + body, rest, 0) : v16{};
  dv += dyt * yt;
  const float dot = hsum(dv);
  for (int64_t j = 0; j < body; j += 16) {
    v16 g = loadV(y + j) * (loadV(dy + j) - dot);
    if (scale != 1.0f) g *= scale;
    __builtin_memcpy(dx + j, &g, sizeof(g));
  }
  v16 gt = yt * (dyt - dot);
  if (scale != 1.0f) gt *= scale;
  if (rest) storeTail(dx + body, gt, rest);
}

}  // namespace rowops

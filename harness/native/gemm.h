// The addon's matrix product, shared by the batched matmul (kernels.cc) and the fused attention
// (attention.cc): C = A · B for strided row-major operands, register-blocked and vectorised.
// Every element of C is summed over k in order with one fused multiply-add per term, whichever
// block computes it, so a product has the same value whichever kernel asks for it and whichever
// rows it is computed with.
#pragma once
#include <cstdint>
#include <vector>
#if defined(__FMA__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace gemm {

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

// a·b + c rounded once, written out: left to the compiler (`acc += a * b`), the contraction
// into a fused multiply-add differed between the kernel's instantiations (a 1-row block's
// 8-wide tail stayed unfused), so an element's value depended on which rows shared its block.
// Without an FMA unit nothing is contracted, which is consistent too.
inline v8 fmadd(float a, v8 b, v8 c) {
#ifdef __FMA__
  return (v8)_mm256_fmadd_ps(_mm256_set1_ps(a), (__m256)b, (__m256)c);
#else
  return a * b + c;
#endif
}

inline v16 fmadd(float a, v16 b, v16 c) {
#ifdef __AVX512F__
  return (v16)_mm512_fmadd_ps(_mm512_set1_ps(a), (__m512)b, (__m512)c);
#else
  v8 bl, bh, cl, ch;
  __builtin_memcpy(&bl, &b, sizeof(v8));
  __builtin_memcpy(&bh, reinterpret_cast<const char*>(&b) + sizeof(v8), sizeof(v8));
  __builtin_memcpy(&cl, &c, sizeof(v8));
  __builtin_memcpy(&ch, reinterpret_cast<const char*>(&c) + sizeof(v8), sizeof(v8));
  const v8 l = fmadd(a, bl, cl), h = fmadd(a, bh, ch);
  v16 out;
  __builtin_memcpy(&out, &l, sizeof(v8));
  __builtin_memcpy(reinterpret_cast<char*>(&out) + sizeof(v8), &h, sizeof(v8));
  return out;
#endif
}

// Rows [0, R) of C = A · B for one column block of B (row stride ldb) held in R·NV vector
// registers over the whole k loop: each B row segment is loaded once per R rows of A (register
// blocking), and C (row stride ldc) is written once instead of once per k, its first `cols`
// columns only (a partial block is the matrix's last columns). A's element (r, kk) is
// A[r·sr + kk·sk], so a transposed A (the weight gradients' xᵀ·dy) is read in place rather than
// copied. 6 rows × 2 vectors (12 accumulators) keep both FMA pipes busy through their latency.
// With `accumulate`, C already holds the sums over earlier k and the kernel continues them.
template <int R, int NV, typename V>
inline void microKernel(const float* A, int64_t sr, int64_t sk, const float* B, int64_t ldb, float* C, int64_t ldc, int64_t k,
                        int64_t cols, bool accumulate) {
  constexpr int L = sizeof(V) / sizeof(float);
  V acc[R][NV] = {};
  // Continuing a sum over an earlier block of k: the same additions in the same order as one pass.
  if (accumulate)
    for (int r = 0; r < R; r++) __builtin_memcpy(&acc[r][0], C + r * ldc, cols * sizeof(float));
  for (int64_t kk = 0; kk < k; kk++) {
    V b[NV];
    for (int v = 0; v < NV; v++) b[v] = load<V>(B + kk * ldb + v * L);
    for (int r = 0; r < R; r++) {
      const float a = A[r * sr + kk * sk];
      for (int v = 0; v < NV; v++) acc[r][v] = fmadd(a, b[v], acc[r][v]);
    }
  }
  for (int r = 0; r < R; r++) __builtin_memcpy(C + r * ldc, &acc[r][0], cols * sizeof(float));
}

// Rows [0, R) of C = A · B (B: k×n, row stride ldb): 32-, 16- and 8-wide column blocks, then
// the last n mod 8 columns from `tail` (those columns of B packed k×8, zero-padded).
template <int R>
void rowBlock(const float* A, int64_t sr, int64_t sk, const float* B, int64_t ldb, const float* tail, float* C, int64_t ldc,
              int64_t k, int64_t n, bool acc) {
  int64_t j = 0;
  for (; j + 32 <= n; j += 32) microKernel<R, 2, v16>(A, sr, sk, B + j, ldb, C + j, ldc, k, 32, acc);
  for (; j + 16 <= n; j += 16) microKernel<R, 1, v16>(A, sr, sk, B + j, ldb, C + j, ldc, k, 16, acc);
  for (; j + 8 <= n; j += 8) microKernel<R, 1, v8>(A, sr, sk, B + j, ldb, C + j, ldc, k, 8, acc);
  if (j < n) microKernel<R, 1, v8>(A, sr, sk, tail, 8, C + j, ldc, k, n - j, acc);
}

// Rows of A per block of k: a block of B (kBlock × n) then stays in L2 while every row block
// of A reads it, instead of being streamed from memory once per 6 rows (the weight gradients
// xᵀ·dy read a 2432 × 256 dy: 2.5 MB).
constexpr int64_t kBlock = 256;

// C = A · B: A m×k with element (r, kk) at A[r·sr + kk·sk]; B k×n with row stride ldb; C m×n
// with row stride ldc. When n is not a multiple of 8, the last n mod 8 columns run as one
// zero-padded 8-wide block rather than scalar columns, which cost as much as the rest of an
// attention product (n = 76): those columns of B are packed k×8 into `scratch`, grown here as
// needed (a caller reuses one scratch over its products).
inline void product(const float* A, int64_t sr, int64_t sk, const float* B, int64_t ldb, float* C, int64_t ldc, int64_t m,
                    int64_t k, int64_t n, std::vector<float>& scratch) {
  const int64_t n8 = n - n % 8;
  if (n8 < n) {
    if (static_cast<int64_t>(scratch.size()) < k * 8) scratch.resize(k * 8);
    for (int64_t kk = 0; kk < k; kk++)
      for (int64_t j = 0; j < 8; j++) scratch[kk * 8 + j] = n8 + j < n ? B[kk * ldb + n8 + j] : 0.0f;
  }
  const float* tail = scratch.data();
  for (int64_t k0 = 0; k0 < k; k0 += kBlock) {
    const int64_t kc = k - k0 < kBlock ? k - k0 : kBlock;
    const float* Ak = A + k0 * sk;
    const float* Bk = B + k0 * ldb;
    const float* Tk = tail + k0 * 8;
    const bool acc = k0 > 0;
    int64_t i = 0;
    for (; i + 6 <= m; i += 6) rowBlock<6>(Ak + i * sr, sr, sk, Bk, ldb, Tk, C + i * ldc, ldc, kc, n, acc);
    for (; i + 4 <= m; i += 4) rowBlock<4>(Ak + i * sr, sr, sk, Bk, ldb, Tk, C + i * ldc, ldc, kc, n, acc);
    for (; i < m; i++) rowBlock<1>(Ak + i * sr, sr, sk, Bk, ldb, Tk, C + i * ldc, ldc, kc, n, acc);
  }
}

// out (cols × rows, row-major) = the transpose of in (rows × cols, row stride ld).
inline void transpose(const float* in, int64_t ld, float* out, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < cols; c++) out[c * rows + r] = in[r * ld + c];
}

}  // namespace gemm

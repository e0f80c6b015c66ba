// Multi-head attention without its head transposes: queries, keys and values stay in the dense
// layers' [B, S, heads·dh] layout and each head is read (and its gradient written) through row
// strides, where TF.js ops would transpose every q, k, v and output to [B, heads, S, dh] and
// back, and scale, mask and normalise the scores in three more passes.
//   scores: y[b,h] = softmax(scale · q_h k_hᵀ + mask)      (probabilities [B, heads, S, S_kv])
//   mix:    out[b, :, h] = y[b,h] · v_h                   (output [B, S, heads·dh])
// Each product is gemm::product, summed in the order the batched matmul sums it.
#include <node_api.h>
#include <cstdint>
#include <vector>

#include "gemm.h"
#include "heap.h"
#include "pool.h"
#include "rowops.h"

namespace {

// The shapes of one attention call: batch, heads, query and key positions, head width; d = h·dh
// is the row stride of q, k, v and the output.
struct Dims {
  int64_t b, h, s, skv, dh;
  int64_t d() const { return h * dh; }
};

// y = softmax(scale · q kᵀ + mask) per batch item and head. The mask (optional) is added
// through strides mb, mh, ms over batch, head and query row (0 where it broadcasts); its last
// axis is the key axis, contiguous.
void scoresForward(const float* q, const float* k, const float* mask, float* y, const Dims& n, int64_t mb, int64_t mh,
                   int64_t ms, float scale) {
  const int64_t d = n.d();
  // The scores of one batch item and head, scaled and masked here, then normalised into y.
  pool::parallelFor(n.b * n.h, double(n.b * n.h) * n.s * n.skv * n.dh, [&](int64_t lo, int64_t hi) {
    std::vector<float> kt(n.dh * n.skv), z(n.s * n.skv), tail;
    for (int64_t bh = lo; bh < hi; bh++) {
      const int64_t b = bh / n.h, h = bh % n.h;
      gemm::transpose(k + b * n.skv * d + h * n.dh, d, kt.data(), n.skv, n.dh);
      gemm::product(q + b * n.s * d + h * n.dh, d, 1, kt.data(), n.skv, z.data(), n.skv, n.s, n.dh, n.skv, tail);
      float* Y = y + (b * n.h + h) * n.s * n.skv;
      for (int64_t i = 0; i < n.s; i++) {
        float* row = z.data() + i * n.skv;
        for (int64_t j = 0; j < n.skv; j++) row[j] *= scale;
        if (mask) {
          const float* m = mask + b * mb + h * mh + i * ms;
          for (int64_t j = 0; j < n.skv; j++) row[j] += m[j];
        }
        rowops::softmaxRow(row, Y + i * n.skv, n.skv);
      }
    }
  });
}

// From y and dy: dz = scale · y(dy − Σ dy·y) per row, then dq_h = dz · k_h, dk_h = dzᵀ · q_h.
void scoresBackward(const float* q, const float* k, const float* y, const float* dy, float* dq, float* dk, const Dims& n,
                    float scale) {
  const int64_t d = n.d();
  pool::parallelFor(n.b * n.h, 2.0 * n.b * n.h * n.s * n.skv * n.dh, [&](int64_t lo, int64_t hi) {
    std::vector<float> dz(n.s * n.skv), tail;
    for (int64_t bh = lo; bh < hi; bh++) {
      const int64_t b = bh / n.h, h = bh % n.h;
      const int64_t at = (b * n.h + h) * n.s * n.skv;
      for (int64_t i = 0; i < n.s; i++)
        rowops::softmaxGradRow(y + at + i * n.skv, dy + at + i * n.skv, dz.data() + i * n.skv, n.skv, scale);
      const int64_t qAt = b * n.s * d + h * n.dh, kAt = b * n.skv * d + h * n.dh;
      gemm::product(dz.data(), n.skv, 1, k + kAt, d, dq + qAt, d, n.s, n.skv, n.dh, tail);
      gemm::product(dz.data(), 1, n.skv, q + qAt, d, dk + kAt, d, n.skv, n.s, n.dh, tail);
    }
  });
}

// out[b, :, h] = y[b,h] · v_h.
void mixForward(const float* y, const float* v, float* out, const Dims& n) {
  const int64_t d = n.d();
  pool::parallelFor(n.b * n.h, double(n.b * n.h) * n.s * n.skv * n.dh, [&](int64_t lo, int64_t hi) {
    std::vector<float> tail;
    for (int64_t bh = lo; bh < hi; bh++) {
      const int64_t b = bh / n.h, h = bh % n.h;
      gemm::product(y + bh * n.s * n.skv, n.skv, 1, v + b * n.skv * d + h * n.dh, d, out + b * n.s * d + h * n.dh, d, n.s, n.skv, n.dh,
                    tail);
    }
  });
}

// dy[b,h] = dout_h · v_hᵀ, dv_h = y[b,h]ᵀ · dout_h.
void mixBackward(const float* y, const float* v, const float* dout, float* dy, float* dv, const Dims& n) {
  const int64_t d = n.d();
  pool::parallelFor(n.b * n.h, 2.0 * n.b * n.h * n.s * n.skv * n.dh, [&](int64_t lo, int64_t hi) {
    std::vector<float> vt(n.dh * n.skv), tail;
    for (int64_t bh = lo; bh < hi; bh++) {
      const int64_t b = bh / n.h, h = bh % n.h;
      const int64_t at = bh * n.s * n.skv, vAt = b * n.skv * d + h * n.dh, oAt = b * n.s * d + h * n.dh;
      gemm::transpose(v + vAt, d, vt.data(), n.skv, n.dh);
      gemm::product(dout + oAt, d, 1, vt.data(), n.skv, dy + at, n.skv, n.s, n.dh, n.skv, tail);
      gemm::product(y + at, 1, n.skv, dout + oAt, d, dv + vAt, d, n.skv, n.s, n.dh, tail);
    }
  });
}

// The five shape integers b, h, s, skv, dh of a call; false unless all are positive.
bool readDims(const int64_t* v, Dims* n) {
  *n = {v[0], v[1], v[2], v[3], v[4]};
  return n->b > 0 && n->h > 0 && n->s > 0 && n->skv > 0 && n->dh > 0;
}

// attnScores(heap, qOff, kOff, maskOff (−1: none), yOff, b, h, s, skv, dh, mb, mh, ms, scale)
napi_value AttnScores(napi_env env, napi_callback_info info) {
  int64_t v[12], len;
  napi_value scale;
  float* heap = heapArgs(env, info, "attnScores", 12, v, &scale, 1, &len);
  if (!heap) return nullptr;
  Dims n;
  if (!readDims(v + 4, &n)) return Throw(env, "attnScores: every dimension must be positive");
  const int64_t mb = v[9], mh = v[10], ms = v[11];
  const int64_t maskExtent = (n.b - 1) * mb + (n.h - 1) * mh + (n.s - 1) * ms + n.skv;
  if (!allInHeap({{v[0], n.b * n.s * n.d()}, {v[1], n.b * n.skv * n.d()}, {v[3], n.b * n.h * n.s * n.skv}}, len) ||
      (v[2] != -1 && !inHeap(v[2], maskExtent, len)))
    return Throw(env, "attnScores: operand outside the heap");
  scoresForward(heap + v[0], heap + v[1], v[2] == -1 ? nullptr : heap + v[2], heap + v[3], n, mb, mh, ms, floatArg(env, scale));
  return nullptr;
}

// attnScoresGrad(heap, qOff, kOff, yOff, dyOff, dqOff, dkOff, b, h, s, skv, dh, scale)
napi_value AttnScoresGrad(napi_env env, napi_callback_info info) {
  int64_t v[11], len;
  napi_value scale;
  float* heap = heapArgs(env, info, "attnScoresGrad", 11, v, &scale, 1, &len);
  if (!heap) return nullptr;
  Dims n;
  if (!readDims(v + 6, &n)) return Throw(env, "attnScoresGrad: every dimension must be positive");
  const int64_t qs = n.b * n.s * n.d(), ks = n.b * n.skv * n.d(), ys = n.b * n.h * n.s * n.skv;
  if (!allInHeap({{v[0], qs}, {v[1], ks}, {v[2], ys}, {v[3], ys}, {v[4], qs}, {v[5], ks}}, len))
    return Throw(env, "attnScoresGrad: operand outside the heap");
  scoresBackward(heap + v[0], heap + v[1], heap + v[2], heap + v[3], heap + v[4], heap + v[5], n, floatArg(env, scale));
  return nullptr;
}

// attnMix(heap, yOff, vOff, outOff, b, h, s, skv, dh)
napi_value AttnMix(napi_env env, napi_callback_info info) {
  int64_t v[8], len;
  float* heap = heapArgs(env, info, "attnMix", 8, v, nullptr, 0, &len);
  if (!heap) return nullptr;
  Dims n;
  if (!readDims(v + 3, &n)) return Throw(env, "attnMix: every dimension must be positive");
  if (!allInHeap({{v[0], n.b * n.h * n.s * n.skv}, {v[1], n.b * n.skv * n.d()}, {v[2], n.b * n.s * n.d()}}, len))
    return Throw(env, "attnMix: operand outside the heap");
  mixForward(heap + v[0], heap + v[1], heap + v[2], n);
  return nullptr;
}

// attnMixGrad(heap, yOff, vOff, doutOff, dyOff, dvOff, b, h, s, skv, dh)
napi_value AttnMixGrad(napi_env env, napi_callback_info info) {
  int64_t v[10], len;
  float* heap = heapArgs(env, info, "attnMixGrad", 10, v, nullptr, 0, &len);
  if (!heap) return nullptr;
  Dims n;
  if (!readDims(v + 5, &n)) return Throw(env, "attnMixGrad: every dimension must be positive");
  const int64_t ys = n.b * n.h * n.s * n.skv, vs = n.b * n.skv * n.d(), os = n.b * n.s * n.d();
  if (!allInHeap({{v[0], ys}, {v[1], vs}, {v[2], os}, {v[3], ys}, {v[4], vs}}, len))
    return Throw(env, "attnMixGrad: operand outside the heap");
  mixBackward(heap + v[0], heap + v[1], heap + v[2], heap + v[3], heap + v[4], n);
  return nullptr;
}

}  // namespace

void registerAttention(napi_env env, napi_value exports) {
  exportFunctions(env, exports, {{"attnScores", AttnScores}, {"attnScoresGrad", AttnScoresGrad}, {"attnMix", AttnMix}, {"attnMixGrad", AttnMixGrad}});
}

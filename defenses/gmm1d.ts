/**
 * A two-component Gaussian mixture on one-dimensional data, fitted by EM: BYE's tool for both
 * its bimodality test per layer and its final clustering (its code uses scikit-learn's
 * GaussianMixture(n_components=2); this follows that estimator's defaults where they matter:
 * a k-means start, variances floored by 1e-6, at most 100 EM steps, stopping when the mean
 * log-likelihood changes by less than 1e-3). The k-means start is deterministic here: Lloyd's
 * iterations from the minimum and the maximum, which in one dimension find the best split.
 */
export interface Gmm2 {
  /** Component means, the lower first. */
  means: [number, number];
  stds: [number, number];
  weights: [number, number];
  /** Each value's most likely component (0 = the lower mean). */
  labels: number[];
}

const REG = 1e-6;
const MAX_ITER = 100;
const TOL = 1e-3;

function twoMeans(x: number[]): number[] {
  let c = [Math.min(...x), Math.max(...x)];
  let labels: number[] = [];
  for (let it = 0; it < 100; it++) {
    const next = x.map((v) => (Math.abs(v - c[1]) < Math.abs(v - c[0]) ? 1 : 0));
    if (next.every((l, i) => l === labels[i])) break;
    labels = next;
    c = [0, 1].map((k) => mean(x.filter((_, i) => labels[i] === k), c[k]));
  }
  return labels;
}

const mean = (v: number[], empty = NaN) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : empty);
const logNormal = (v: number, m: number, s2: number) => -0.5 * (Math.log(2 * Math.PI * s2) + ((v - m) * (v - m)) / s2);

/** Fits the mixture; all-equal data gives equal means (one mode, as the bimodality test must read it). */
export function gmm2(x: number[]): Gmm2 {
  if (x.length < 2) throw new Error(`gmm2: needs at least 2 values, got ${x.length}`);
  if (x.some((v) => !Number.isFinite(v))) throw new Error('gmm2: values must be finite');
  // Responsibilities of component 1, started from the hard 2-means split.
  let r = twoMeans(x).map(Number);
  let m = [0, 0];
  let s2 = [0, 0];
  let w = [0, 0];
  let prev = -Infinity;
  for (let it = 0; it < MAX_ITER; it++) {
    // M step.
    const n1 = r.reduce((a, b) => a + b, 0);
    const n = [x.length - n1, n1];
    const resp = (k: number, i: number) => (k === 1 ? r[i] : 1 - r[i]);
    for (const k of [0, 1]) {
      const nk = Math.max(n[k], 1e-12);
      m[k] = x.reduce((a, v, i) => a + resp(k, i) * v, 0) / nk;
      s2[k] = x.reduce((a, v, i) => a + resp(k, i) * (v - m[k]) ** 2, 0) / nk + REG;
      w[k] = n[k] / x.length;
    }
    // E step, with the mean log-likelihood for the stopping rule.
    let ll = 0;
    r = x.map((v) => {
      const a = Math.log(Math.max(w[0], 1e-300)) + logNormal(v, m[0], s2[0]);
      const b = Math.log(Math.max(w[1], 1e-300)) + logNormal(v, m[1], s2[1]);
      const top = Math.max(a, b);
      const norm = top + Math.log(Math.exp(a - top) + Math.exp(b - top));
      ll += norm;
      return Math.exp(b - norm);
    });
    ll /= x.length;
    if (Math.abs(ll - prev) < TOL) break;
    prev = ll;
  }
  const labels = r.map((p) => (p > 0.5 ? 1 : 0));
  // An empty component has no mean of its own: give it the other's (one mode).
  for (const k of [0, 1]) if (w[k] === 0) [m[k], s2[k]] = [m[1 - k], s2[1 - k]];
  const order = m[0] <= m[1] ? [0, 1] : [1, 0];
  return {
    means: [m[order[0]], m[order[1]]],
    stds: [Math.sqrt(s2[order[0]]), Math.sqrt(s2[order[1]])],
    weights: [w[order[0]], w[order[1]]],
    labels: order[0] === 0 ? labels : labels.map((l) => 1 - l),
  };
}

/** |μ₁ − μ₂| / (σ₁ + σ₂) of a fitted mixture: how far apart its two modes are (BYE's bimodality measure). */
export const separationOf = (g: Gmm2): number => (g.means[1] - g.means[0]) / (g.stds[0] + g.stds[1]);

/**
 * The indices of the lower mode of `x` when it has two: its mixture's modes lie more than
 * `separation` apart and neither is empty (BYE's test, applied to one score); none otherwise.
 * With the fitted separation, for the log.
 */
export function lowerMode(x: number[], separation: number): { members: number[]; separation: number } {
  const g = gmm2(x);
  const s = separationOf(g);
  if (!(s > separation) || g.weights[0] === 0 || g.weights[1] === 0) return { members: [], separation: s };
  return { members: g.labels.flatMap((c, i) => (c === 0 ? [i] : [])), separation: s };
}

/**
 * The statistics of the tables (docs/statistics.md): pure functions over numbers.
 *
 * - A cell is a mean over seeds with its 95% Student-t interval (n − 1 degrees of freedom).
 * - A run's ASR carries its Wilson 95% score interval (a binomial proportion over test items).
 * - Two defenses are compared paired by seed (same pre-training, same poisoned split): the mean
 *   of the per-seed differences with its t-interval, and the exact two-sided sign-flip
 *   permutation p-value (every one of the 2^n sign patterns), Holm-corrected within a table.
 * - Power: how many seeds a paired difference of a given size needs (normal approximation).
 *
 * With n seeds the smallest sign-flip p is 2 / 2^n: 0.25 for 3 seeds, 0.0625 for 5, 0.03125
 * for 6, so fewer than 6 seeds can never show a difference at the 5% level.
 */

/** ln Γ(x), Lanczos approximation (g = 7, 9 terms): ~15 significant digits for x > 0. */
function logGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    for (const aa of [(m * (b - m) * x) / ((a + m2 - 1) * (a + m2)), (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1))]) {
      d = 1 + aa * d;
      if (Math.abs(d) < tiny) d = tiny;
      c = 1 + aa / c;
      if (Math.abs(c) < tiny) c = tiny;
      d = 1 / d;
      h *= d * c;
    }
    if (Math.abs(d * c - 1) < 1e-15) break;
  }
  return h;
}

/** The regularised incomplete beta function I_x(a, b). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaContinuedFraction(x, a, b)) / a : 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t (bisection on the CDF: exact to ~1e-12). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df > 0)) throw new Error(`studentTQuantile: need 0 < p < 1 and df > 0 (got p ${p}, df ${df})`);
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-13 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** The p-quantile of the standard normal (Acklam's rational approximation: relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`normalQuantile: need 0 < p < 1 (got ${p})`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lowTail = (q: number) => {
    const r = Math.sqrt(-2 * Math.log(q));
    return (((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5]) / ((((d[0] * r + d[1]) * r + d[2]) * r + d[3]) * r + 1);
  };
  if (p < 0.02425) return lowTail(p);
  if (p > 1 - 0.02425) return -lowTail(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

export interface Interval {
  lo: number;
  hi: number;
}

export interface MeanInterval {
  mean: number;
  /** Sample standard deviation (n − 1); 0 for n = 1. */
  sd: number;
  n: number;
  /** The 95% Student-t interval of the mean; absent for n = 1 (no spread to estimate). */
  ci?: Interval;
}

/** The median (the mean of the middle two for an even count); NaN for none. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** Mean of the finite values with its `level` Student-t interval; undefined when none is finite. */
export function tInterval(values: readonly number[], level = 0.95): MeanInterval | undefined {
  const xs = values.filter((v) => Number.isFinite(v));
  const n = xs.length;
  if (n === 0) return undefined;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  if (n === 1) return { mean, sd, n };
  const half = (studentTQuantile(1 - (1 - level) / 2, n - 1) * sd) / Math.sqrt(n);
  return { mean, sd, n, ci: { lo: mean - half, hi: mean + half } };
}

/** Wilson's 95% score interval of a proportion hits / n; undefined for n = 0. */
export function wilson(hits: number, n: number, level = 0.95): Interval | undefined {
  if (!(n > 0)) return undefined;
  if (hits < 0 || hits > n) throw new Error(`wilson: hits ${hits} outside [0, ${n}]`);
  const z = normalQuantile(1 - (1 - level) / 2);
  const p = hits / n;
  const denom = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return { lo: Math.max(0, centre - half), hi: Math.min(1, centre + half) };
}

/** Sign-flip enumeration doubles an array per seed: 2^22 sums is where it stops being instant. */
export const MAX_SIGN_FLIP_N = 22;

/**
 * Exact two-sided sign-flip permutation p-value of paired differences: under the null of no
 * difference each seed's difference is as likely negated, so p is the share of the 2^n sign
 * patterns whose |sum| is at least the observed |sum| (the observed pattern included). NaN for
 * no finite difference.
 */
export function signFlipP(diffs: readonly number[]): number {
  const d = diffs.filter((v) => Number.isFinite(v));
  if (d.length === 0) return NaN;
  if (d.length > MAX_SIGN_FLIP_N) throw new Error(`signFlipP: ${d.length} paired values; exact enumeration stops at ${MAX_SIGN_FLIP_N}`);
  let sums = new Float64Array([0]);
  for (const v of d) {
    const next = new Float64Array(sums.length * 2);
    for (let i = 0; i < sums.length; i++) {
      next[2 * i] = sums[i] + v;
      next[2 * i + 1] = sums[i] - v;
    }
    sums = next;
  }
  const observed = Math.abs(d.reduce((a, b) => a + b, 0));
  // Equal sums computed in another order may differ in the last bits.
  const eps = 1e-9 * d.reduce((a, b) => a + Math.abs(b), 0);
  let extreme = 0;
  for (const s of sums) if (Math.abs(s) >= observed - eps) extreme++;
  return extreme / sums.length;
}

/** Holm's step-down adjustment of a family of p-values (NaN stays NaN and is not counted). */
export function holm(ps: readonly number[]): number[] {
  const idx = ps.map((p, i) => [p, i] as const).filter(([p]) => Number.isFinite(p)).sort((a, b) => a[0] - b[0]);
  const m = idx.length;
  const out = ps.map(() => NaN);
  let running = 0;
  idx.forEach(([p, i], k) => {
    running = Math.max(running, Math.min(1, (m - k) * p));
    out[i] = running;
  });
  return out;
}

export interface PairedComparison extends MeanInterval {
  /** Exact two-sided sign-flip p-value of the differences. */
  p: number;
}

/** Per-seed differences: their mean, t-interval and sign-flip p; undefined without a finite one. */
export function differenceSummary(diffs: readonly number[]): PairedComparison | undefined {
  const d = diffs.filter((v) => Number.isFinite(v));
  const m = tInterval(d);
  return m && { ...m, p: signFlipP(d) };
}

/** Paired differences a − b by key (seed), over the keys both have. */
export function pairedComparison(a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>): PairedComparison | undefined {
  return differenceSummary([...a].filter(([k]) => b.has(k)).map(([k, v]) => v - b.get(k)!));
}

/**
 * Seeds a paired comparison needs to detect a true mean difference `delta` at two-sided level
 * `alpha` with probability `power`, given the sd of the per-seed differences (normal
 * approximation: n = ((z_{1−α/2} + z_power) · sd / delta)², rounded up).
 */
export function seedsForPower(sd: number, delta: number, alpha = 0.05, power = 0.8): number {
  if (!(sd >= 0) || !(delta > 0)) return NaN;
  const z = normalQuantile(1 - alpha / 2) + normalQuantile(power);
  return Math.max(2, Math.ceil(((z * sd) / delta) ** 2));
}

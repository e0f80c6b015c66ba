import { describe, expect, it } from 'vitest';
import { der, relativeCleanDrop } from './index.js';

describe('DER (BackdoorBench defense effectiveness rating, clean term relative to no defense)', () => {
  it('a defense that lowers ASR and keeps the clean metric scores above 0.5', () => {
    // ΔASR = 0.98 − 0.05 = 0.93; ΔClean = (60 − 59) / 60 = 1/60 → (0.93 − 1/60 + 1) / 2.
    const v = der({ asrNone: 0.98, asrDefense: 0.05, cleanNone: 60, cleanDefense: 59 });
    expect(v).toBeCloseTo((0.93 - 1 / 60 + 1) / 2, 12);
    expect(v).toBeGreaterThan(0.5);
  });

  it('a defense that only lowers the clean metric scores below 0.5', () => {
    // ΔASR = 0; ΔClean = (60 − 40) / 60 = 1/3 → (0 − 1/3 + 1) / 2 = 1/3.
    const v = der({ asrNone: 0.98, asrDefense: 0.98, cleanNone: 60, cleanDefense: 40 });
    expect(v).toBeCloseTo(1 / 3, 12);
    expect(v).toBeLessThan(0.5);
  });

  it('the clean term has the sign of a loss: a drop lowers DER, a gain is not rewarded', () => {
    expect(relativeCleanDrop(2.85, 2.54)).toBeCloseTo(0.31 / 2.85, 12);
    expect(relativeCleanDrop(2.0, 2.5)).toBeCloseTo(-0.25, 12);
    const base = { asrNone: 0.9, asrDefense: 0.3 };
    const loss = der({ ...base, cleanNone: 2.0, cleanDefense: 1.5 });
    const gain = der({ ...base, cleanNone: 2.0, cleanDefense: 2.5 });
    expect(loss).toBeCloseTo((0.6 - 0.25 + 1) / 2, 12);
    expect(gain).toBeCloseTo((0.6 + 1) / 2, 12);
    expect(loss).toBeLessThan(gain);
  });

  it('rises of ASR or of the clean metric count as zero; no change is 0.5', () => {
    expect(der({ asrNone: 0.2, asrDefense: 0.5, cleanNone: 0.6, cleanDefense: 0.7 })).toBe(0.5);
    expect(der({ asrNone: 0.5, asrDefense: 0.5, cleanNone: 0.6, cleanDefense: 0.6 })).toBe(0.5);
    expect(der({ asrNone: 1, asrDefense: 0, cleanNone: 0.9, cleanDefense: 0.95 })).toBe(1);
    expect(der({ asrNone: 0, asrDefense: 1, cleanNone: 1, cleanDefense: 0 })).toBe(0);
  });

  it("CIDEr-D's ×10 scale no longer discounts a clean loss", () => {
    // ΔASR = 0.97 − 0.74 = 0.23; ΔClean = 0.31 / 2.85 = 0.1088 (it was 0.031 on the /10 scale).
    expect(der({ asrNone: 0.97, asrDefense: 0.74, cleanNone: 2.85, cleanDefense: 2.54 })).toBeCloseTo((0.23 - 0.31 / 2.85 + 1) / 2, 12);
    // The same relative loss weighs the same on any scale.
    expect(der({ asrNone: 0.97, asrDefense: 0.74, cleanNone: 285, cleanDefense: 254 })).toBeCloseTo(der({ asrNone: 0.97, asrDefense: 0.74, cleanNone: 2.85, cleanDefense: 2.54 }), 12);
  });

  it('refuses a percent ASR and negative clean metrics; NaN passes through, and a zero reference gives NaN', () => {
    expect(() => der({ asrNone: 97, asrDefense: 5, cleanNone: 0.6, cleanDefense: 0.6 })).toThrow(/asrNone must be a fraction/);
    expect(() => der({ asrNone: 0.9, asrDefense: 0.5, cleanNone: -1, cleanDefense: 0.6 })).toThrow(/non-negative/);
    expect(der({ asrNone: NaN, asrDefense: 0.5, cleanNone: 0.5, cleanDefense: 0.5 })).toBeNaN();
    expect(der({ asrNone: 0.9, asrDefense: 0.5, cleanNone: 0, cleanDefense: 0.5 })).toBeNaN();
  });
});

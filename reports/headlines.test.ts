import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../harness/core/record.js';
import { record } from './records.testutil.js';
import { renderResultsMarkdown } from './resultsMarkdown.js';

const render = (records: RunRecord[]) => renderResultsMarkdown({ title: 'results', records, invocations: [] });

/** `seeds` runs of one caption cell with the same ASR, CIDEr-D and extra metrics on every seed. */
function cell(attack: string, defense: string, asr: number, cider: number, extra: Partial<RunRecord> & { metrics?: Record<string, number> } = {}, seeds = 3): RunRecord[] {
  return Array.from({ length: seeds }, (_, k) =>
    record({ ...extra, id: `caption__llava__${attack}__${defense}__s${k + 1}`, attack, defense, seed: k + 1, metrics: { ASR: asr, 'CIDEr-D': cider, ...extra.metrics } }),
  );
}

/**
 * Three attacks, seeds 1–3: no defense at ASR 90% and CIDEr-D 2.0 everywhere; PCR at 80, 70
 * and 30% (ΔASR −10, −20, −60) and CIDEr-D 1.9 (−5%); ft at 20, 70, 30% with CIDEr-D 2.0.
 * On the patch-shuffled trigger every no-defense cell reads 80% and every PCR cell 5%.
 */
const grid = (seeds = 3) =>
  (
    [
      ['a1', 0.8, 0.2],
      ['a2', 0.7, 0.7],
      ['a3', 0.3, 0.3],
    ] as const
  ).flatMap(([attack, pcr, ft]) => [
    ...cell(attack, 'none', 0.9, 2.0, { metrics: { 'ASR shuffled': 0.8 } }, seeds),
    ...cell(attack, 'pcr', pcr, 1.9, { metrics: { 'ASR shuffled': 0.05 } }, seeds),
    ...cell(attack, 'ft', ft, 2.0, {}, seeds),
  ]);

describe('the findings’ short answers', () => {
  it('(a) counts, medians and ranges over the implanted attacks, and says that 3 seeds resolve nothing', () => {
    const page = render(grid());
    expect(page).toContain(
      '- PCR against no defense, over 3 implanted attacks (n = 3 seeds each): mean ASR lower on 3, ΔASR median −20.0 points (from −60.0 to −10.0); ' +
        'resolved lower on 0 (fewer than 7 seeds: none can be). CIDEr-D, relative: median −5.0% (from −5.0 to −5.0); resolved lower on 0, higher on 0.',
    );
    // ft against pcr: −60 on a1, 0 on a2 and a3; only the reduction is named
    expect(page).toContain("- No other defense's ASR differs from PCR's by a resolved margin, in 3 comparisons (fewer than 6 seeds: none can be).");
    expect(page).toContain('- Largest mean ASR reductions against PCR: ft on a1 −60.0 points [−60.0, −60.0].');
    // every sentence behind the short answer stays on the page, folded
    expect(page).toContain('<details><summary>Every comparison behind it (6)</summary>\n\n- pcr vs none on a1: ΔASR −10.0 points');
  });

  it('(a) counts a difference as resolved with 10 seeds, and stops saying none can be', () => {
    // 10 identical seeds: sign-flip p = 2/2¹⁰ ≈ 0.002 for each nonzero difference; Holm within each
    // question (at most 2 p-values) multiplies it by at most 2: every one resolved
    const page = render(grid(10));
    expect(page).toContain(
      '- PCR against no defense, over 3 implanted attacks (n = 10 seeds each): mean ASR lower on 3, ΔASR median −20.0 points (from −60.0 to −10.0); resolved lower on 3. ' +
        'CIDEr-D, relative: median −5.0% (from −5.0 to −5.0); resolved lower on 3, higher on 0.',
    );
    expect(page).toContain("- ASR against PCR, resolved in 1 of 3 comparisons. Lower than PCR's: ft on a1 −60.0 points [−60.0, −60.0].");
    // with 6 seeds the question "which defenses differ from none" (pcr, ft: a Holm family of 2)
    // cannot pass, 2 × 2/2⁶ = 0.0625, and the sentence says why; "which differ from PCR" (ft alone) can
    const six = render(grid(6));
    expect(six).toContain('resolved lower on 0 (fewer than 7 seeds: none can be). CIDEr-D');
    expect(six).toContain('- ASR against PCR, resolved in 1 of 3 comparisons');
  });

  it('(a) groups the resolved differences against PCR by direction and defense, most attacks first', () => {
    // fp 10, 20, 10% against PCR's 80, 70, 30: −70, −50, −20; abl 90% on a1 only: +10; ft −60 on a1
    const fp = [cell('a1', 'fp', 0.1, 2.0, {}, 10), cell('a2', 'fp', 0.2, 2.0, {}, 10), cell('a3', 'fp', 0.1, 2.0, {}, 10)].flat();
    const abl = [cell('a1', 'abl', 0.9, 2.0, {}, 10), cell('a2', 'abl', 0.7, 2.0, {}, 10), cell('a3', 'abl', 0.3, 2.0, {}, 10)].flat();
    const page = render([...grid(10), ...fp, ...abl]);
    expect(page).toContain(
      "- ASR against PCR, resolved in 5 of 9 comparisons. Lower than PCR's: fp on 3 of 3 attacks, median −50.0 points (from −70.0 to −20.0); ft on a1 −60.0 points [−60.0, −60.0]. " +
        "Higher than PCR's: abl on a1 +10.0 points [+10.0, +10.0].",
    );
  });

  it('(b) reads a drop on the shuffled view with the intact trigger still firing as view-dependent', () => {
    const page = render(grid());
    // pcr: intact 80, 70, 30 → shuffled 5: −75, −65, −25; none: 90 → 80: −10
    expect(page).toContain(
      '- Under PCR, over 3 implanted attacks: ASR shuffled − intact median −65.0 points (from −75.0 to −25.0), resolved on 0 (fewer than 7 seeds: none can be); ' +
        "the intact trigger's ASR median 70.0% (from 30.0% to 80.0%): the intact trigger still fires, so the drop marks a view-dependent backdoor, not a removed one.",
    );
    expect(page).toContain("- Without defense: ASR shuffled − intact median −10.0 points (from −10.0 to −10.0), the intact trigger's ASR median 90.0% (from 90.0% to 90.0%).");
  });

  it('(c) sums up each removing or flagging defense over the attacks, noting where a fact exists for some only', () => {
    const removed = (attack: string, recall: number, precision?: number) =>
      cell(attack, 'remove', 0.5, 2.0, { removal: { removed: 10, poisoned: 5, hits: 4, precision: precision ?? NaN, recall }, suspicion: { 'remove.lga': [{ epoch: 1, n: 100, positives: 5, auroc: recall }] } });
    const flagged = (attack: string, t: number) => cell(attack, 'cleansight', 0.85, 2.0, { metrics: { flagged: t, 'flagged clean': 0.02 } });
    const page = render([...grid(), ...removed('a1', 0.8, 0.4), ...removed('a2', 0.2), ...removed('a3', 0.5), ...flagged('a1', 0.6), ...flagged('a2', 0.1), ...flagged('a3', 0.3)]);
    expect(page).toContain(
      '- remove, over 3 implanted attacks: AUROC of remove.lga median 0.500 (from 0.200 to 0.800), above 0.5 on 1; removal precision 0.400 (1 of 3 attacks); ' +
        'removal recall median 0.500 (from 0.200 to 0.800); against no defense, ΔASR median −40.0 points (from −40.0 to −40.0), resolved lower on 0.',
    );
    expect(page).toContain(
      '- cleansight, over 3 implanted attacks: flagged triggered median 0.300 (from 0.100 to 0.600); flagged clean median 0.020 (from 0.020 to 0.020); ' +
        'against no defense, ΔASR median −5.0 points (from −5.0 to −5.0), resolved lower on 0.',
    );
  });
});

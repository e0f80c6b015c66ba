import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../harness/core/record.js';
import { judged } from './comparisons.js';
import { INVOCATIONS_FILE, type Invocation } from './invocations.js';
import { mdCode, mdCodeBlock, mdTable, mdText } from './markdown.js';
import { record } from './records.testutil.js';
import { renderResultsMarkdown } from './resultsMarkdown.js';
import { writeMarkdownReport } from './write.js';

const render = (records: RunRecord[], invocations: Invocation[] = []) => renderResultsMarkdown({ title: 'results', records, invocations });

/** One run per seed of `defense`, ASR and CIDEr-D given per seed; the provenance names `commit`. */
function runs(defense: string, asr: number[], cider: number[], commit = 'abc123'): RunRecord[] {
  return asr.map((a, k) =>
    record({
      id: `caption__llava__badnets__${defense}__s${k + 1}`,
      defense,
      seed: k + 1,
      metrics: { ASR: a, 'CIDEr-D': cider[k] },
      provenance: { backend: 'wasm', engineFixes: [], tfjs: '4.22.0', node: 'v20.19.0', codeVersion: 'cv1', configHash: 'h', date: '2026-01-02T00:00:00.000Z', gitCommit: commit },
    }),
  );
}

/** Three seeds: pcr − none ASR is −60, −55, −65 points; CIDEr-D falls 10%, 9.1%, 9.5%. */
const threeSeeds = [...runs('none', [0.9, 0.8, 0.85], [2.0, 2.2, 2.1]), ...runs('pcr', [0.3, 0.25, 0.2], [1.8, 2.0, 1.9])];

/** Eight seeds: pcr − none ASR is −44 to −51 points, on every seed. */
const eightSeeds = [
  ...runs('none', Array.from({ length: 8 }, (_, k) => 0.9 + 0.01 * (k % 3)), Array(8).fill(2)),
  ...runs('pcr', Array.from({ length: 8 }, (_, k) => 0.4 + 0.02 * (k % 4)), Array.from({ length: 8 }, (_, k) => 2 + 0.01 * ((k % 3) - 1))),
];

const line = (page: string, start: string) => page.split('\n').find((l) => l.startsWith(start));

describe('Markdown building blocks', () => {
  it('escapes what GFM would read as markup, and fences code longer than its backticks', () => {
    expect(mdText('a|b *c* <i>d</i> [e] _f_ `g` ~h~ & \\ x\ny')).toBe('a\\|b \\*c\\* \\<i\\>d\\</i\\> \\[e\\] \\_f\\_ \\`g\\` \\~h\\~ \\& \\\\ x y');
    expect(mdCode('run')).toBe('`run`');
    expect(mdCode('a`b')).toBe('``a`b``');
    expect(mdCodeBlock(['x ``` y'], 'sh')).toBe('````sh\nx ``` y\n````');
    expect(mdTable(['a', 'n'], [['x'], ['y', '2']], ['l', 'r'])).toBe('| a | n |\n| --- | ---: |\n| x |  |\n| y | 2 |');
  });
});

describe('the Markdown results page', () => {
  it('shows each cell as mean [95% interval] with its n, as the HTML does', () => {
    const page = render(threeSeeds);
    // none: ASR 90, 80, 85 → 85 ± t(0.975, 2)·5/√3 = 12.42; CIDEr-D 2.1 ± 0.248, ahead of pcr's
    // but not significantly with 3 seeds: a tie, as the HTML marks it
    expect(line(page, '| badnets | none |')).toBe('| badnets | none | 85.0 [72.6, 97.4] | 2.100 [1.852, 2.348] (tie) |  | — | 3 |');
    expect(page).toContain('| attack | defense | ASR (%) ↓ | CIDEr-D ↑ | DER ↑ | FTR (%) ↓ | n |\n| --- | --- | ---: | ---: | ---: | ---: | ---: |');
  });

  it('escapes labels and errors, so a | cannot split a cell', () => {
    const page = render([
      record({ id: 'n', attack: 'a|b', metrics: { ASR: 0.9, 'CIDEr-D': 2 } }),
      record({ id: 'x', attack: 'a|b', defense: '<i>x*</i>', metrics: { ASR: 0.5, 'CIDEr-D': 1.8 } }),
      record({ id: 'f', attack: 'a|b', defense: 'bad', status: 'failed', error: 'NaN | loss\nat epoch 2', metrics: {} }),
    ]);
    // DER = [max(0, 0.9 − 0.5) − max(0, (2 − 1.8)/2) + 1] / 2 = 0.65; one seed: no interval, a "tie" at best
    expect(line(page, '| a\\|b | \\<i\\>x\\*\\</i\\> |')).toBe('| a\\|b | \\<i\\>x\\*\\</i\\> | 50.0 (tie) | 1.800 | 0.650 | — | 1 |');
    expect(line(page, '| a\\|b | bad |')).toBe('| a\\|b | bad | failed | failed | failed | — | 0 |');
    expect(page).toContain('- `f`: NaN \\| loss at epoch 2');
    // every table line has as many unescaped | as its header
    for (const table of page.split('\n\n').filter((b) => b.startsWith('| '))) {
      const bars = table.split('\n').map((l) => l.replace(/\\\|/g, '').split('|').length);
      expect(new Set(bars).size, table).toBe(1);
    }
  });

  it('says "not resolved" with n = 3, whatever the difference, naming the comparison', () => {
    const page = render(threeSeeds);
    // ΔASR −60 ± 12.42; the sign-flip p of 3 same-sign differences is 2/2³ = 0.25, alone in its question: Holm 0.25
    expect(page).toContain(
      '- pcr vs none on badnets: ΔASR −60.0 points [−72.4, −47.6] (n = 3, Holm p = 0.250): not resolved (n = 3 < 6 seeds cannot reach p < 0.05); ' +
        'ΔCIDEr-D (relative) −9.5% [−10.7, −8.4] (n = 3, Holm p = 0.250): not resolved (n = 3 < 6 seeds cannot reach p < 0.05) (*Paired comparisons*, row badnets · pcr vs none).',
    );
    expect(line(page, '| badnets | pcr | none |')).toBe(
      '| badnets | pcr | none | 3 | −60.0 [−72.4, −47.6] | 0.250 | 0.250 | −9.5% [−10.7, −8.4] | 0.250 | 0.250 | ASR: not resolved (n = 3 < 6 seeds cannot reach p < 0.05); clean: not resolved (n = 3 < 6 seeds cannot reach p < 0.05) |',
    );
    expect(page).not.toMatch(/\bwins?\b/);
  });

  it('calls a difference resolved with n = 8 and an interval excluding 0', () => {
    const page = render(eightSeeds);
    // differences −50 −49 −48 −44 −51 −50 −46 −45: mean −47.875, sd 2.588, ± t(0.975, 7)·sd/√8 = 2.163;
    // p = 2/2⁸ = 0.0078, alone in its question (pcr vs none on ASR for badnets): Holm p = p
    expect(page).toContain('- pcr vs none on badnets: ΔASR −47.9 points [−50.0, −45.7] (n = 8, Holm p = 0.008): resolved, lower ASR; ΔCIDEr-D (relative) −0.1%');
  });

  it('keeps "not resolved" where the sign-flip test passes but the t-interval covers 0', () => {
    const skewed = { mean: -17.5, sd: 40.4, n: 7, ci: { lo: -54.9, hi: 19.9 }, p: 2 / 128 };
    expect(judged(skewed, 0.031, ['lower ASR', 'higher ASR'])).toBe('not resolved (Holm p = 0.031, but the 95% interval covers 0)');
    expect(judged({ ...skewed, ci: { lo: -30, hi: -5 } }, 0.031, ['lower ASR', 'higher ASR'])).toBe('resolved, lower ASR');
    expect(judged(skewed, 0.06, ['lower ASR', 'higher ASR'])).toBe('not resolved');
  });

  it('gives a finding the seed floor of its own Holm family, as the table does', () => {
    // pcr and ft both against none on badnets: a question of 2 comparisons, so 7 seeds (2·2/2⁷ < 0.05 > 2·2/2⁶)
    const page = render([...threeSeeds, ...runs('ft', [0.5, 0.5, 0.5], [2, 2, 2])]);
    const verdict = 'not resolved (n = 3 < 7 seeds cannot reach p < 0.05 among 2 comparisons)';
    expect(line(page, '| badnets | ft | none |')).toContain(verdict);
    expect(line(page, '| badnets | pcr | none |')).toContain(verdict);
    expect(line(page, '- pcr vs none on badnets:')).toContain(`(n = 3, Holm p = 0.500): ${verdict}; ΔCIDEr-D (relative)`);
    // ft against pcr is a question of its own (the defenses compared with pcr): 6 seeds
    expect(line(page, '- ft vs pcr on badnets:')).toContain('not resolved (n = 3 < 6 seeds cannot reach p < 0.05);');
    expect(judged({ mean: -10, sd: 1, n: 3, ci: { lo: -12, hi: -8 }, p: 0.25 }, 1, ['lower ASR', 'higher ASR'], 8)).toBe(
      'not resolved (n = 3 < 9 seeds cannot reach p < 0.05 among 8 comparisons)',
    );
  });

  it('reports the shuffled view, removal and flagging in findings (b) and (c)', () => {
    const withShuffled = threeSeeds.map((r) => ({ ...r, metrics: { ...r.metrics, 'ASR shuffled': r.defense === 'pcr' ? 0.05 : 0.8 } }));
    const removal = { removed: 10, poisoned: 5, hits: 4, precision: 0.4, recall: 0.8 };
    const removed = runs('remove', [0.1, 0.1, 0.1], [1.9, 1.9, 1.9]).map((r) => ({ ...r, removal, suspicion: { 'remove.lga': [{ epoch: 1, n: 100, positives: 5, auroc: 0.9 }] } }));
    const page = render([...withShuffled, ...removed]);
    // pcr: intact 30, 25, 20 → shuffled 5: differences −25, −20, −15, p = 0.25, alone in its column (Holm family): Holm p = p
    expect(page).toContain('- pcr on badnets: ASR 25.0 [12.6, 37.4] on the intact trigger, 5.0 [5.0, 5.0] on the patch-shuffled one; shuffled − intact −20.0 points [−32.4, −7.6] (n = 3, Holm p = 0.250): not resolved (n = 3 < 6 seeds cannot reach p < 0.05) (*Shuffled trigger view*, row badnets · pcr).');
    expect(page).toContain('- remove on badnets: AUROC (remove.lga, last epoch) 0.900 [0.900, 0.900], removal precision 0.400 [0.400, 0.400], removal recall 0.800 [0.800, 0.800] (n = 3; *Detection*, row badnets · remove · remove.lga); against no defense, ΔASR −75.0 points');
    expect(page).toContain('| attack | defense | score | AUROC (last epoch) | removal precision | removal recall | flagged triggered | flagged clean | runs |');
    expect(line(page, '| badnets | remove | remove.lga |')).toBe('| badnets | remove | remove.lga | 0.900 [0.900, 0.900] | 0.400 [0.400, 0.400] | 0.800 [0.800, 0.800] | — | — | 3 |');
    // without the metric, (b) says so instead of staying silent
    expect(render(threeSeeds)).toContain('- No caption run recorded `ASR shuffled` (records made before the shuffled view existed): nothing to compare.');
  });

  it('sets each adaptive attacker against its base attack under the defenses it targets and none, in a table and in finding (d)', () => {
    const as = (attack: string, rate: number) => (r: RunRecord) => ({
      ...r,
      id: r.id.replace('badnets', attack),
      attack,
      attackParams: { ...(r.attackParams as object), rate },
      config: { attack: { id: attack, params: { rate } } },
      metrics: { ...r.metrics, 'ASR shuffled': attack === 'viewinv' ? 0.9 : 0.05 },
    });
    const base = threeSeeds.map(as('badnets', 0.05));
    // viewinv keeps 90% under pcr on every seed, against badnets' 30, 25, 20: +60, +65, +70 points
    const viewinv = [...runs('none', [0.95, 0.9, 0.9], [2, 2, 2]), ...runs('pcr', [0.9, 0.9, 0.9], [2, 2, 2])].map(as('viewinv', 0.05));
    // the same attack at another rate has no base row to pair with: left out
    const otherRate = runs('none', [0.9, 0.9, 0.9], [2, 2, 2]).map(as('randpatch', 0.1)).map((r) => ({ ...r, attack: 'randpatch-10' }));
    const page = render([...base, ...viewinv, ...otherRate]);
    expect(line(page, '| viewinv | badnets | pcr |')).toBe('| viewinv | badnets | pcr | 3 | 90.0 [90.0, 90.0] | 25.0 [12.6, 37.4] | +65.0 [+52.6, +77.4] | 0.250 | 0.250 | not resolved (n = 3 < 6 seeds cannot reach p < 0.05) | 90.0 [90.0, 90.0] | 5.0 [5.0, 5.0] |');
    expect(line(page, '| viewinv | badnets | none (no defense) |')).toMatch(/^\| viewinv \| badnets \| none \(no defense\) \| 3 \| 91\.7 /);
    expect(page).toContain('- viewinv against pcr: ASR 90.0 [90.0, 90.0] against 25.0 [12.6, 37.4] on badnets; viewinv − badnets +65.0 points [+52.6, +77.4] (n = 3, Holm p = 0.250): not resolved (n = 3 < 6 seeds cannot reach p < 0.05); ASR shuffled 90.0 [90.0, 90.0] against 5.0 [5.0, 5.0] (*Adaptive attackers*, row viewinv · pcr).');
    expect(page).not.toContain('| randpatch-10 | badnets');
    expect(render(threeSeeds)).toContain('- The caption table has no adaptive attacker beside its base attack: nothing to compare.');
  });

  it('heads the page with the commit, the distinct commands, the summed wall time, the machine and the seeds, from the records and invocations.jsonl', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mbb-md-'));
    mkdirSync(join(dir, 'runs'));
    for (const r of threeSeeds) writeFileSync(join(dir, 'runs', `${r.id}.json`), JSON.stringify(r));
    const inv = (argv: string[], wallSeconds: number, extra: Record<string, unknown> = {}) =>
      JSON.stringify({ argv, commit: 'abc123', start: '2026-01-01T00:00:00.000Z', end: '2026-01-01T01:00:00.000Z', wallSeconds, cpu: 'Intel Xeon', cores: 2, node: 'v20.19.0', done: 1, failed: 0, skipped: 0, ...extra });
    const paper = ['run', '--profile', 'paper', '--out', 'reports/out/paper'];
    // The last invocation was killed outright: its progress lines only, the last one standing for it.
    const killed = [inv(paper, 60, { id: 'k', running: true }), inv(paper, 120, { id: 'k', running: true })];
    // Commands are listed with the commits they ran at (shortened; one ran outside git).
    const commits = { second: { commit: '6d1d33c2a915171f5d2531f593ed5a7500352a9a-dirty' }, none: { commit: undefined } };
    writeFileSync(join(dir, INVOCATIONS_FILE), [inv(paper, 3000), inv(paper, 600, { signal: 'SIGINT', ...commits.second }), inv(['run', '--profile', 'paper', '--set', 'seeds=[1,2,3]', '--out', 'reports/out/paper'], 60.4, commits.none), ...killed].join('\n') + '\n');
    const to = join(dir, 'docs', 'results.md');
    expect(writeMarkdownReport(dir, to)).toBe(to);
    const page = readFileSync(to, 'utf8');
    expect(page.startsWith('# mllm-backdoor-bench — results\n')).toBe(true);
    expect(page).toContain(
      [
        '- **Commit:** `abc123` (all 6 runs); 1 code version (hashes of the code each run reaches).',
        '- **Runs:** 6 (0 failed); tasks: caption; models: llava; attacks: badnets; defenses: none, pcr.',
        '- **Seeds:** 3 (1, 2, 3); n = 3 per cell.',
        // 3000 + 600 + 60.4 + 120 s
        '- **Wall time:** 1 h 3 min, summed over 4 invocations, 1 of them interrupted by a signal, 1 ended without finishing (killed, or still running; counted to their last finished run).',
        '- **Machine:** Intel Xeon, 2 cores, Node v20.19.0.',
      ].join('\n'),
    );
    expect(page).toContain(
      "```sh\nmbb run --profile paper --out reports/out/paper  # 3 invocations, at abc123 (2), 6d1d33c-dirty (1)\nmbb run --profile paper --set 'seeds=[1,2,3]' --out reports/out/paper  # at no recorded commit\n```\n\nA command reproduces its runs at the commit beside it.",
    );
    expect(page).not.toContain('Records of');
    // deterministic: the same inputs give the same bytes
    writeMarkdownReport(dir, to);
    expect(readFileSync(to, 'utf8')).toBe(page);
  });

  it('says when the records come from several commits, and when no invocation was logged', () => {
    const page = render([...runs('none', [0.9, 0.8], [2, 2], 'bbb'), ...runs('pcr', [0.5, 0.4], [2, 2], 'bbb'), ...runs('ft', [0.5, 0.4], [2, 2], 'aaa-dirty')]);
    expect(page).toContain('> **Records of 2 commits** (listed below)');
    expect(page).toMatch(/- \*\*Commits:\*\* `bbb` \(4 runs\), `aaa-dirty` \(2 runs\) \(`-dirty`: tracked files had uncommitted changes/);
    expect(page).toContain('- **Wall time:** not recorded (no invocations.jsonl');
    expect(page).toContain('- **Machine:** not recorded (no invocations.jsonl); the records name Node v20.19.0.');
  });

  it('refuses an output directory without records, saying what to run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mbb-md-'));
    mkdirSync(join(dir, 'runs'));
    expect(() => writeMarkdownReport(dir)).toThrow(/no run records to report; run `mbb run --out .*` first/);
  });
});

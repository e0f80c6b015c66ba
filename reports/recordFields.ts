/**
 * Typed reads of the loosely typed parts of a run record (`config`, `attackParams`, metric
 * values after a JSON round trip). Records come from disk and from older code versions, so
 * every read tolerates a missing field instead of throwing: the report must still render.
 */
import type { RunRecord } from '../harness/core/record.js';
import { stableStringify } from '../harness/core/hash.js';

function field(obj: unknown, ...path: string[]): unknown {
  let v: unknown = obj;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/**
 * A metric as a number; NaN when absent. JSON turns NaN (e.g. an ASR with no eligible sample)
 * into null, and `100 * null` would silently read as 0.
 */
export function metricValue(r: RunRecord, name: string): number {
  const v = r.metrics[name];
  return typeof v === 'number' ? v : NaN;
}

/** The attack plugin id; `record.attack` is the table label, which may differ (e.g. a rate sweep). */
export function attackId(r: RunRecord): string {
  const id = field(r.config, 'attack', 'id');
  return typeof id === 'string' ? id : r.attack;
}

/**
 * The order an experiment config lists its attacks or defenses in, as plugin ids (`attacks`)
 * or table labels (`defenses`: label, else id), over the records' configs, first seen first.
 * Tables follow it, so columns read as the researcher wrote the grid, not as file names sort.
 */
export function configOrder(records: RunRecord[], list: 'attacks' | 'defenses'): string[] {
  const out: string[] = [];
  for (const r of records) {
    const refs = field(r.config, 'exp', list);
    if (!Array.isArray(refs)) continue;
    for (const ref of refs) {
      const key = list === 'attacks' ? field(ref, 'id') : (field(ref, 'label') ?? field(ref, 'id'));
      if (typeof key === 'string' && !out.includes(key)) out.push(key);
    }
  }
  return out;
}

/** The name of the experiment (profile) the run belongs to, when recorded. */
export function experimentName(r: RunRecord): string | undefined {
  const n = field(r.config, 'exp', 'name');
  return typeof n === 'string' ? n : undefined;
}

/** The resolved poisoning rate of the run, when the attack has one. */
export function poisonRate(r: RunRecord): number | undefined {
  const rate = field(r.attackParams, 'rate');
  return typeof rate === 'number' && Number.isFinite(rate) ? rate : undefined;
}

/** The attack parameters as an object (empty when the record holds none). */
export function attackParamsOf(r: RunRecord): Record<string, unknown> {
  const p = r.attackParams;
  return p !== null && typeof p === 'object' && !Array.isArray(p) ? (p as Record<string, unknown>) : {};
}

/** The run's image size (ShapesWorld default 32 when the config does not say). */
export function imageSizeOf(r: RunRecord): number {
  const s = field(r.config, 'exp', 'data', 'imageSize');
  return typeof s === 'number' && Number.isInteger(s) && s > 0 ? s : 32;
}

/** The git commit the run was made at, when the runner recorded one. */
export function gitCommitOf(r: RunRecord): string | undefined {
  return r.provenance?.gitCommit || undefined;
}

/**
 * What identifies an attack's trigger and output rule apart from how much is poisoned: the
 * plugin id and its parameters without `rate` and `target`. Runs with one key differ only in
 * rate (a rate sweep: one line of the rate chart) and draw the same trigger (one gallery strip).
 */
export function attackFamily(r: RunRecord): string {
  const { rate: _rate, target: _target, ...rest } = attackParamsOf(r);
  return `${attackId(r)} ${stableStringify(rest)}`;
}

/** Display names of attack families: the plugin id, numbered when one id has several families. */
export function familyNames(records: RunRecord[]): Map<string, string> {
  const families = [...new Set(records.map(attackFamily))];
  const names = new Map<string, string>();
  for (const f of families) {
    const id = f.slice(0, f.indexOf(' '));
    const same = families.filter((g) => g.slice(0, g.indexOf(' ')) === id);
    names.set(f, same.length > 1 ? `${id} #${same.indexOf(f) + 1}` : id);
  }
  return names;
}

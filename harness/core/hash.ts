/**
 * Hashing of JSON-like values: equal values (whatever their keys' order) hash equally. What
 * run identities, stage keys and experiment hashes are made of.
 */
import { createHash } from 'node:crypto';

/** Stable JSON: object keys sorted, so equal configs hash equally. */
export function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableStringify((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export function hashOf(v: unknown): string {
  return createHash('sha256').update(stableStringify(v)).digest('hex').slice(0, 16);
}

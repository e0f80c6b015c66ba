/** An optional JSON file beside the run records (a sweep, a calibration), validated by its parser. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../harness/core/errors.js';

/** The parsed file `rel` of `outDir`; undefined when absent. A bad file stops with its name. */
export function readOptionalJson<T>(outDir: string, rel: string, parse: (json: unknown, source: string) => T): T | undefined {
  const path = join(outDir, rel);
  if (!existsSync(path)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  return parse(json, path);
}

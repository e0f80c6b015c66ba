/**
 * `mbb run --only PATTERN`: run a few cells of a grid, e.g. to check one number of a published
 * table (docs/identity.md: a cell does not depend on the grid around it, so a cell run alone
 * gives the grid's numbers). A pattern is a run id (`<task>__<model>__<attack>__<defense>__s<seed>`,
 * the record's file name) where `*` stands for any characters; a run is kept when any pattern
 * matches its whole id. A pattern that matches no run of the grid stops the invocation before
 * any work, with the nearest id.
 */
import { UserError, closest } from '../core/errors.js';

const toRegExp = (pattern: string) => new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);

/** The test for a run id, once every pattern has matched one of `ids`. */
export function onlyFilter(patterns: string[], ids: string[]): (id: string) => boolean {
  const res = patterns.map((p) => [p, toRegExp(p)] as const);
  for (const [p, re] of res) {
    if (ids.some((id) => re.test(id))) continue;
    const near = closest(p, ids);
    throw new UserError(
      `--only ${p}: no run of this grid has a matching id (${ids.length} runs, ids like ${ids[0] ?? '(none)'}${near ? `; nearest: ${near}` : ''}); ` +
        'a pattern is a whole id, <task>__<model>__<attack>__<defense>__s<seed>, where * stands for any characters',
    );
  }
  return (id) => res.some(([, re]) => re.test(id));
}

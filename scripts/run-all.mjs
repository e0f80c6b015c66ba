#!/usr/bin/env zx
// Regenerates every table of a profile (default: `default`): runs the experiment grid on a
// pool of worker processes, then writes the CSV tables and the HTML report.
// Usage: zx scripts/run-all.mjs [--profile default|smoke|paper] [--config FILE] [--out DIR]
//        [--workers N] [--shard i/n]
// Finished runs and cached stages are reused, so a killed run-all resumes where it stopped.
// With --shard (numbered from 0), only that slice runs; combine slices with `mbb merge`.
import { $, argv, echo, path } from 'zx';

const profile = argv.profile ?? 'default';
// A slice writes its own folder (merged later), like `mbb run --shard` does by default.
const out = argv.out ?? path.join('reports', 'out', argv.shard !== undefined ? `${profile}-shard-${String(argv.shard).split('/')[0]}` : profile);
const extra = [
  ...(argv.workers ? ['--workers', String(argv.workers)] : []),
  ...(argv.config ? ['--config', String(argv.config)] : []),
  ...(argv.shard !== undefined ? ['--shard', String(argv.shard)] : []),
];
const mbb = path.join(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), 'mbb.mjs');

echo(`run-all: profile ${profile} → ${out}`);
const t0 = Date.now();
await $({ stdio: 'inherit' })`node ${mbb} run --profile ${profile} --out ${out} ${extra}`;
echo(`run-all: done in ${Math.round((Date.now() - t0) / 1000)}s; open ${path.join(out, 'report.html')}`);

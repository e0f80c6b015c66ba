#!/usr/bin/env node
// Screenshot of a built report: opens DIR/report.html in headless Chromium and writes
// DIR/report.png (full page). Usage: node scripts/screenshot.mjs --out DIR
// Exits 1 if the page logs an error, makes a request or opens a dialog (it must be self-contained).
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { register } from 'tsx/esm/api';

register();
const { checkPage } = await import('../reports/screenshot.ts');
const { values, positionals } = parseArgs({ options: { out: { type: 'string' } }, allowPositionals: true });
const dir = values.out ?? positionals[0];
if (!dir) {
  process.stderr.write('usage: node scripts/screenshot.mjs --out DIR   (DIR holds report.html)\n');
  process.exit(2);
}
try {
  const r = await checkPage(join(resolve(dir), 'report.html'), { screenshot: join(resolve(dir), 'report.png') });
  process.stderr.write(`[screenshot] wrote ${r.screenshot}\n`);
  for (const e of r.consoleErrors) process.stderr.write(`[screenshot] console error: ${e}\n`);
  for (const f of r.failedRequests) process.stderr.write(`[screenshot] failed request: ${f}\n`);
  for (const d of r.dialogs) process.stderr.write(`[screenshot] dialog: ${d}\n`);
  if (r.consoleErrors.length || r.failedRequests.length || r.dialogs.length) process.exitCode = 1;
} catch (e) {
  process.stderr.write(`screenshot: ${e.message}\n`);
  process.exit(2);
}

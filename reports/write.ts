/** Rebuild the report files of an output directory from its run records (no training): the HTML report and its CSVs, or the Markdown results page. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../harness/core/errors.js';
import type { RunRecord } from '../harness/core/record.js';
import { writeFileAtomic } from '../harness/core/atomicFile.js';
import { paperTables } from './aggregate.js';
import { comparisons } from './comparisons.js';
import { adaptiveCsv, comparisonsCsv, detectionCsv, longCsv, paperTableCsv, shuffledCsv } from './csv.js';
import { adaptiveComparisons } from './adaptiveComparisons.js';
import { shuffledComparisons } from './shuffledComparisons.js';
import { detectionSummary } from './detectionSummary.js';
import { attackDescription, galleryPlan, writeGalleryStrip } from './gallery.js';
import { renderReport, type GalleryView } from './html.js';
import { longRows } from './longFormat.js';
import { readSweep } from './sweep.js';
import { readCalibration } from './calibration.js';
import { readInvocations } from './invocations.js';
import { renderResultsMarkdown } from './resultsMarkdown.js';

export function readRecords(outDir: string): RunRecord[] {
  const dir = join(outDir, 'runs');
  if (!existsSync(dir)) throw new UserError(`${dir}: no run records here; run \`mbb run --out ${outDir}\` first`);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const p = join(dir, f);
      try {
        return JSON.parse(readFileSync(p, 'utf8')) as RunRecord;
      } catch (e) {
        throw new UserError(`${p}: unreadable run record (${(e as Error).message}); delete it and re-run to recompute`);
      }
    });
}

/**
 * Draws the trigger strips next to the report and returns them for embedding. A strip that
 * cannot be drawn (e.g. an attack plugin since removed) is reported on the page, not fatal:
 * the tables must not be lost to a picture.
 */
function buildGallery(outDir: string, records: RunRecord[], written: string[]): GalleryView[] {
  return galleryPlan(records).map((e) => {
    const view: GalleryView = { name: e.name, labels: e.labels, description: attackDescription(e.attackId), seed: e.seed, file: e.file };
    try {
      const path = writeGalleryStrip(outDir, e);
      written.push(path);
      return { ...view, dataUri: `data:image/png;base64,${readFileSync(path).toString('base64')}` };
    } catch (err) {
      return { ...view, error: (err as Error).message };
    }
  });
}

/** Writes the CSV tables (shuffled-<task>.csv where runs recorded ASR shuffled, detection-<task>.csv where a defense detected, adaptive-<task>.csv where an adaptive attacker has its base), the trigger PNGs and report.html; returns the paths written. */
export function writeReport(outDir: string, title = 'report', now = new Date()): string[] {
  const records = readRecords(outDir);
  const written: string[] = [];
  const put = (name: string, content: string) => {
    const p = join(outDir, name);
    writeFileAtomic(p, content);
    written.push(p);
  };
  for (const t of paperTables(records)) {
    put(`table-${t.task}.csv`, paperTableCsv(t));
    put(`comparisons-${t.task}.csv`, comparisonsCsv(comparisons(t)));
    const shuffled = shuffledComparisons(t);
    if (shuffled.length) put(`shuffled-${t.task}.csv`, shuffledCsv(shuffled));
    const detected = detectionSummary(t, records);
    if (detected.length) put(`detection-${t.task}.csv`, detectionCsv(detected));
    const adapted = adaptiveComparisons(t, records);
    if (adapted.length) put(`adaptive-${t.task}.csv`, adaptiveCsv(adapted));
  }
  put('results-long.csv', longCsv(longRows(records)));
  const gallery = buildGallery(outDir, records, written);
  put('report.html', renderReport({ title, records, sweep: readSweep(outDir), calibration: readCalibration(outDir), gallery, generated: now.toISOString() }));
  return written;
}

/**
 * Writes the Markdown results page of `outDir` (its records and invocation log) to `to`,
 * default <out>/results.md; returns the path written.
 */
export function writeMarkdownReport(outDir: string, to = join(outDir, 'results.md'), title = 'results'): string {
  const records = readRecords(outDir);
  if (records.length === 0) throw new UserError(`${join(outDir, 'runs')}: no run records to report; run \`mbb run --out ${outDir}\` first`);
  writeFileAtomic(to, renderResultsMarkdown({ title, records, invocations: readInvocations(outDir) }));
  return to;
}

/** Hand-made run records and a small reader of the report's HTML, shared by the report tests. */
import type { RunRecord } from '../harness/core/record.js';

/** A successful caption run with round numbers; `over` replaces any field. */
export function record(over: Partial<RunRecord>): RunRecord {
  return {
    id: 'r',
    status: 'ok',
    task: 'caption',
    model: 'llava',
    attack: 'badnets',
    defense: 'none',
    defenseStage: 'none',
    seed: 1,
    metrics: { ASR: 0.9, 'CIDEr-D': 2 },
    attackParams: { rate: 0.05, target: '', size: 3, value: 255, margin: 0 },
    defenseParams: {},
    target: 'a photo of the banana',
    poisonCount: 5,
    trainSize: 100,
    keys: {},
    cached: {},
    suspicion: {},
    timings: { pretrain: 1, sft: 2, eval: 3 },
    trainLog: {},
    examples: [],
    provenance: { backend: 'wasm', engineFixes: [], tfjs: '4.22.0', node: 'v20', codeVersion: 'x', configHash: 'h', date: '2026-01-02T00:00:00.000Z' },
    config: { attack: { id: 'badnets', params: {} } },
    ...over,
  };
}

/** Decodes the entities Handlebars writes (&amp; &lt; &gt; &quot; &#x27; &#x60; &#x3D;). */
export function unescapeHtml(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot);/gi, (_, e: string) =>
    e[0] === '#' ? String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)) : ({ amp: '&', lt: '<', gt: '>', quot: '"' } as Record<string, string>)[e.toLowerCase()],
  );
}

function attrsOf(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([\w-]+)="([^"]*)"/g)) out[m[1]] = unescapeHtml(m[2]);
  return out;
}

export interface HtmlCell {
  row: string;
  col: string;
  metric: string;
  mean: string;
  lo: string;
  hi: string;
  std: string;
  n: string;
  cls: string;
  /** Visible text of the cell (notes included), entities decoded. */
  text: string;
}

/** The metric cells of the paper table of `task`, read from the page's data attributes. */
export function paperCells(html: string, task: string): HtmlCell[] {
  const start = html.search(new RegExp(`<table[^>]*data-table="paper"[^>]*data-task="${task}"`));
  if (start < 0) throw new Error(`no paper table for task ${task}`);
  const table = html.slice(start, html.indexOf('</table>', start));
  const cells: HtmlCell[] = [];
  for (const row of table.matchAll(/<tr data-row="([^"]*)"[^>]*>([\s\S]*?)<\/tr>/g)) {
    for (const td of row[2].matchAll(/<td([^>]*)>([\s\S]*?)<\/td>/g)) {
      const a = attrsOf(td[1]);
      cells.push({
        row: unescapeHtml(row[1]),
        col: a['data-col'],
        metric: a['data-metric'],
        mean: a['data-mean'],
        lo: a['data-lo'],
        hi: a['data-hi'],
        std: a['data-std'],
        n: a['data-n'],
        cls: a.class ?? '',
        text: unescapeHtml(td[2].replace(/<[^>]+>/g, ' ')).trim(),
      });
    }
  }
  return cells;
}

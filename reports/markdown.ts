/**
 * GitHub-flavoured Markdown building blocks for the results page (reports/resultsMarkdown.ts).
 * Text from the records (labels, score names, errors) goes through `mdText`, so a `|` cannot
 * split a table cell and a `*` or `<b>` in a label cannot restyle the page; the numbers the
 * report formats itself are written as they are.
 */

/**
 * The characters that can change how GFM renders inline text: emphasis, code, links, HTML and
 * entities, strikethrough, table cell breaks, and the backslash itself. Block markers (`#`, `-`,
 * `>` at a line's start) need no escape: data never starts a line here.
 */
const INLINE_SPECIAL = /[\\|*_`[\]<>~&]/g;

/** Data as literal inline text: specials backslash-escaped, line breaks as spaces (a row is one line). */
export function mdText(s: string): string {
  return s.replace(/\r?\n|\r/g, ' ').replace(INLINE_SPECIAL, (c) => `\\${c}`);
}

/** The longest run of backticks in `s`: a fence must be longer. */
function longestBacktickRun(s: string): number {
  return Math.max(0, ...(s.match(/`+/g) ?? []).map((r) => r.length));
}

/** Inline code, its fence longer than any backtick run inside (GFM code spans take no escapes). */
export function mdCode(s: string): string {
  const fence = '`'.repeat(longestBacktickRun(s) + 1);
  const pad = s.startsWith('`') || s.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${s}${pad}${fence}`;
}

/** A fenced code block of `lines`, its fence longer than any backtick run inside. */
export function mdCodeBlock(lines: string[], lang = ''): string {
  const fence = '`'.repeat(Math.max(3, longestBacktickRun(lines.join('\n')) + 1));
  return [`${fence}${lang}`, ...lines, fence].join('\n');
}

export type Align = 'l' | 'r';

/**
 * A GFM table. Cells must already be Markdown (data through `mdText`); a row shorter than the
 * header is padded with empty cells. `align` gives each column's alignment (default left).
 */
export function mdTable(header: string[], rows: string[][], align: Align[] = []): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const rule = header.map((_, i) => (align[i] === 'r' ? '---:' : '---'));
  const pad = (r: string[]) => [...r, ...Array(Math.max(0, header.length - r.length)).fill('')];
  return [line(header), line(rule), ...rows.map((r) => line(pad(r)))].join('\n');
}

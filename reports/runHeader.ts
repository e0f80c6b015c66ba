/**
 * The results page's header: what made its numbers. From the records, the git commits and code
 * versions (a page over records of several commits says so), the runs and the seeds; from the
 * invocation log (reports/invocations.ts), the distinct commands, the machines and the wall
 * time summed over every session of the grid. Nothing here reads a clock: the same records and
 * log give the same header.
 */
import type { RunRecord } from '../harness/core/record.js';
import { attackOrder, uniq, type PaperTable } from './aggregate.js';
import { fmtDuration } from './format.js';
import { commandLine, INVOCATIONS_FILE, type Invocation } from './invocations.js';
import { mdCode, mdCodeBlock, mdText } from './markdown.js';
import { experimentName, gitCommitOf } from './recordFields.js';

/** A distinct value and how many records or invocations have it. */
export interface Counted {
  value: string;
  count: number;
}

export interface RunHeader {
  runs: number;
  failed: number;
  tasks: string[];
  models: string[];
  attacks: string[];
  defenses: string[];
  /** The records' git commits, most runs first. */
  commits: Counted[];
  /** Records that carry no commit (made outside git, or before commits were recorded). */
  withoutCommit: number;
  /** Distinct hashes of the code the runs reach (harness/runIdentity.ts). */
  codeVersions: number;
  seeds: number[];
  /** Seeds per cell (the n of the tables' ASR), smallest and largest; undefined without a result. */
  cellSeeds?: { min: number; max: number };
  /** Node versions the records name (the machine's only trace without an invocation log). */
  recordNodes: string[];
  /** Distinct command lines in order of first use, counted by invocation, with the commits they ran at. */
  commands: (Counted & { commits: Counted[] })[];
  /** Distinct machines ("CPU, N cores, Node v…") in order of first use, counted by invocation. */
  machines: Counted[];
  invocations: number;
  /** Invocations ended by a signal (their time is counted: it was spent). */
  interrupted: number;
  /** Invocations whose last line is a progress line: killed outright, or still running. */
  unfinished: number;
  wallSeconds: number;
  smoke: boolean;
}

/** Distinct values in order of first appearance, with their counts. */
function counted(values: string[]): Counted[] {
  return uniq(values).map((value) => ({ value, count: values.filter((v) => v === value).length }));
}

export function runHeader(records: RunRecord[], invocations: Invocation[], tables: PaperTable[]): RunHeader {
  const commits = counted(records.flatMap((r) => gitCommitOf(r) ?? []));
  const lines = invocations.map((i) => commandLine(i.argv));
  const cellNs = tables.flatMap((t) => t.rows.flatMap((r) => r.cells.flatMap((c) => (c.asr ? [c.asr.n] : []))));
  return {
    runs: records.length,
    failed: records.filter((r) => r.status !== 'ok').length,
    tasks: tables.map((t) => t.task),
    models: uniq(records.map((r) => r.model)),
    attacks: attackOrder(records),
    defenses: uniq(tables.flatMap((t) => t.columns.map((c) => c.defense))),
    // Stable sort: ties keep their first appearance, so the order is a function of the records.
    commits: [...commits].sort((a, b) => b.count - a.count),
    withoutCommit: records.filter((r) => !gitCommitOf(r)).length,
    codeVersions: new Set(records.map((r) => r.provenance?.codeVersion).filter(Boolean)).size,
    seeds: uniq(records.map((r) => r.seed)).sort((a, b) => a - b),
    ...(cellNs.length ? { cellSeeds: { min: Math.min(...cellNs), max: Math.max(...cellNs) } } : {}),
    recordNodes: uniq(records.flatMap((r) => r.provenance?.node || [])),
    commands: counted(lines).map((c) => ({ ...c, commits: counted(invocations.flatMap((i, k) => (lines[k] === c.value ? [shortCommit(i.commit)] : []))) })),
    machines: counted(invocations.map((i) => `${i.cpu}, ${i.cores} cores, Node ${i.node}`)),
    invocations: invocations.length,
    interrupted: invocations.filter((i) => i.signal).length,
    unfinished: invocations.filter((i) => i.running).length,
    wallSeconds: invocations.reduce((a, i) => a + i.wallSeconds, 0),
    smoke: records.some((r) => experimentName(r) === 'smoke'),
  };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
/** A commit as a command's comment names it: 7 hex digits, `-dirty` kept; outside git, said so. */
const shortCommit = (commit?: string) => (commit ? commit.replace(/^([0-9a-f]{7})[0-9a-f]*/, '$1') : 'no recorded commit');

/** A command's comment: how many invocations, at which commits. */
function commandComment(c: RunHeader['commands'][number]): string {
  const count = c.count > 1 ? `${c.count} invocations, ` : '';
  if (c.commits.length === 1) return `${count}at ${c.commits[0].value}`;
  return `${count}at ${c.commits.map((k) => `${k.value} (${k.count})`).join(', ')}`;
}
const list = (xs: string[]) => xs.map(mdText).join(', ');

function commitLine(h: RunHeader): string {
  if (h.commits.length === 0) return `- **Commit:** not recorded in any record; ${plural(h.codeVersions, 'code version')}.`;
  const commits = h.commits.map((c) => (h.commits.length === 1 && h.withoutCommit === 0 ? `${mdCode(c.value)} (all ${h.runs} runs)` : `${mdCode(c.value)} (${plural(c.count, 'run')})`));
  const none = h.withoutCommit ? `; ${plural(h.withoutCommit, 'run')} without one` : '';
  const dirty = h.commits.some((c) => c.value.endsWith('-dirty')) ? ' (`-dirty`: tracked files had uncommitted changes, so the commit alone does not reproduce those runs)' : '';
  return `- **Commit${h.commits.length > 1 ? 's' : ''}:** ${commits.join(', ')}${none}${dirty}; ${plural(h.codeVersions, 'code version')} (hashes of the code each run reaches).`;
}

function seedsLine(h: RunHeader): string {
  const n = !h.cellSeeds ? 'no cell has a result' : h.cellSeeds.min === h.cellSeeds.max ? `n = ${h.cellSeeds.min} per cell` : `n = ${h.cellSeeds.min} to ${h.cellSeeds.max} per cell (each table gives its cells' n)`;
  return `- **Seeds:** ${h.seeds.length} (${h.seeds.join(', ')}); ${n}.`;
}

function wallLine(h: RunHeader): string {
  if (h.invocations === 0) return `- **Wall time:** not recorded (no ${INVOCATIONS_FILE}: the runs predate the invocation log).`;
  const interrupted = h.interrupted ? `, ${h.interrupted} of them interrupted by a signal` : '';
  const unfinished = h.unfinished ? `, ${h.unfinished} ended without finishing (killed, or still running; counted to their last finished run)` : '';
  return `- **Wall time:** ${fmtDuration(h.wallSeconds)}, summed over ${plural(h.invocations, 'invocation')}${interrupted}${unfinished}.`;
}

function machineLine(h: RunHeader): string {
  if (h.machines.length === 0) return `- **Machine:** not recorded (no ${INVOCATIONS_FILE}); the records name Node ${list(h.recordNodes) || 'nothing'}.`;
  const machines = h.machines.map((m) => (h.machines.length === 1 ? mdText(m.value) : `${mdText(m.value)} (${plural(m.count, 'invocation')})`));
  return `- **Machine${h.machines.length > 1 ? 's' : ''}:** ${machines.join('; ')}.`;
}

/** The header as Markdown blocks (paragraphs, a list, the commands' code block). */
export function headerMarkdown(h: RunHeader): string[] {
  const blocks = [
    'Generated by `mbb report --format markdown` from the run records of one output directory (docs/reporting.md): every number and every finding below is computed from the records; none is typed by hand.',
  ];
  if (h.smoke) blocks.push('> **Smoke profile:** tiny models trained for seconds on a few dozen images. These numbers prove that every plugin runs end to end and measure nothing.');
  if (h.commits.length > 1)
    blocks.push(
      `> **Records of ${h.commits.length} commits** (listed below): this page puts side by side runs made by different states of the code. A run is redone only when the code it reaches changes, so compare their code versions before citing them together.`,
    );
  blocks.push(
    [
      commitLine(h),
      `- **Runs:** ${h.runs} (${h.failed} failed); tasks: ${list(h.tasks)}; models: ${list(h.models)}; attacks: ${list(h.attacks)}; defenses: ${list(h.defenses)}.`,
      seedsLine(h),
      wallLine(h),
      machineLine(h),
    ].join('\n'),
  );
  if (h.commands.length) {
    blocks.push(`**${h.commands.length === 1 ? 'Command' : 'Commands'}** (${plural(h.invocations, 'invocation')}; run from the repository's root, \`mbb\` being \`node scripts/mbb.mjs\`):`);
    blocks.push(mdCodeBlock(h.commands.map((c) => `${c.value}  # ${commandComment(c)}`), 'sh'));
    blocks.push(
      'A command reproduces its runs at the commit beside it. At another commit, the same command with `--dry-run` first says which runs it would make again and why: those whose reached code has changed since (docs/identity.md).',
    );
  }
  return blocks;
}

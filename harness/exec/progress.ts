/**
 * Progress of a running grid. On a terminal: a status block redrawn in place (a bar with runs
 * done/total, failures, elapsed time and an ETA from the work left and done, then one line
 * per worker with its run and current stage), at most a few times a second. Anywhere else (a
 * log file, CI, a Slurm job): plain lines, one per stage change or new kind of message, and
 * otherwise at most one every few seconds per worker, so logs stay readable. The formatting
 * functions are pure.
 */
import { formatDuration } from '../plan/estimate.js';

export interface WorkerStatus {
  run?: string;
  stage?: string;
  detail?: string;
}

export interface GridStatus {
  done: number;
  failed: number;
  total: number;
  elapsedSeconds: number;
  etaSeconds?: number;
  workers: WorkerStatus[];
}

/**
 * Remaining wall time from the work left (in the scheduler's relative cost units) at the
 * throughput so far: the work finished runs did over the elapsed time. Runs differ in cost by
 * orders of magnitude (a repair on a cached model against a pre-training), so this is what the
 * runner shows once a run has done work. Replayed on the results grid's 3-seed invocation (525
 * runs; scripts/eta-replay.ts) it was 1.24× the true remaining time at the median (10–90%:
 * 1.05–1.60×), against 3.29× (1.29–11.15×) for the mean run time below.
 */
export function remainingFromWork(remainingWork: number, creditedWork: number, elapsedSeconds: number): number | undefined {
  if (!(creditedWork > 0)) return undefined;
  return (remainingWork * elapsedSeconds) / creditedWork;
}

/**
 * Remaining wall time: the mean of the finished runs' durations × the runs left, spread over
 * the workers still busy. Undefined until one run has finished (nothing measured yet). The
 * fallback where no work is measured (e.g. every finished run loaded all it needed).
 */
export function estimateRemaining(runSeconds: number[], remaining: number, workers: number): number | undefined {
  if (runSeconds.length === 0) return undefined;
  if (remaining <= 0) return 0;
  const mean = runSeconds.reduce((a, b) => a + b, 0) / runSeconds.length;
  return (mean * remaining) / Math.max(1, Math.min(workers, remaining));
}

/** A progress detail with its numbers blanked: the ticks of one counter share a shape ("epoch #/# step #/# loss #"). */
const shape = (detail?: string) => (detail ?? '').replace(/\d+(?:\.\d+)?/g, '#');

/** `[#####-----]`: `width` cells between the brackets. */
export function progressBar(done: number, total: number, width: number): string {
  const w = Math.max(1, width);
  const filled = total > 0 ? Math.min(w, Math.floor((done / total) * w)) : w;
  return `[${'#'.repeat(filled)}${'-'.repeat(w - filled)}]`;
}

/** Cut a line to the terminal width, so that a redraw never wraps (wrapped lines break "move up"). */
export function fitWidth(line: string, columns: number): string {
  if (line.length <= columns) return line;
  return columns <= 1 ? line.slice(0, columns) : `${line.slice(0, columns - 1)}…`;
}

function stageText(w: WorkerStatus): string {
  if (!w.run) return 'idle';
  return `${w.run}: ${w.stage ?? 'starting'}${w.detail ? ` ${w.detail}` : ''}`;
}

/** The status block: the bar line, then one line per worker; every line fits `columns`. */
export function renderStatus(s: GridStatus, columns: number): string[] {
  const finished = s.done + s.failed;
  const facts = [
    `${finished}/${s.total} runs`,
    ...(s.failed ? [`${s.failed} failed`] : []),
    formatDuration(s.elapsedSeconds),
    `eta ${s.etaSeconds === undefined ? '…' : formatDuration(s.etaSeconds)}`,
  ].join(' · ');
  // The bar gives way to the numbers on a narrow terminal.
  const barWidth = Math.min(40, columns - facts.length - 3);
  const head = barWidth >= 5 ? `${progressBar(finished, s.total, barWidth)} ${facts}` : facts;
  return [head, ...s.workers.map((w, i) => `  w${i + 1} ${stageText(w)}`)].map((l) =>
    fitWidth(l, columns),
  );
}

/** The plain-text line of a worker event, prefixed with the worker and the grid's progress. */
export function plainLine(worker: number, finished: number, total: number, etaSeconds: number | undefined, text: string): string {
  return `[w${worker + 1} ${finished}/${total}${etaSeconds === undefined ? '' : ` eta ${formatDuration(etaSeconds)}`}] ${text}`;
}

export interface ReporterOptions {
  total: number;
  workers: number;
  /** Redraw a status block in place (a terminal) or print plain lines. */
  tty: boolean;
  /** Where output goes: raw text for the block, whole lines for plain output. */
  write: (text: string) => void;
  columns?: () => number;
  now?: () => number;
  /** Plain mode: a worker's repeated stage is printed at most this often. */
  lineEveryMs?: number;
  /** Terminal mode: the block is redrawn at most this often. */
  redrawEveryMs?: number;
  /** The work not settled yet (Scheduler.remainingWork): with `credit`, the ETA comes from the work, not the run count. */
  remainingWork?: () => number;
}

/** Collects worker events and renders them as a live block or as throttled lines. */
export class ProgressReporter {
  private readonly workers: WorkerStatus[];
  private readonly started: number[];
  private readonly lastLine: number[];
  private readonly runSeconds: number[] = [];
  private done = 0;
  private failed = 0;
  private creditedWork = 0;
  private readonly t0: number;
  private drawnLines = 0;
  private lastDraw = -Infinity;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly now: () => number;

  constructor(private readonly o: ReporterOptions) {
    this.now = o.now ?? Date.now;
    this.t0 = this.now();
    this.workers = Array.from({ length: o.workers }, () => ({}));
    this.started = new Array<number>(o.workers).fill(0);
    this.lastLine = new Array<number>(o.workers).fill(-Infinity);
  }

  private eta(): number | undefined {
    const fromWork = this.o.remainingWork && remainingFromWork(this.o.remainingWork(), this.creditedWork, (this.now() - this.t0) / 1000);
    return fromWork ?? estimateRemaining(this.runSeconds, this.o.total - this.done - this.failed, this.o.workers);
  }

  /** The work a finished run did itself (Scheduler.workOf); call before runFinished, so its line shows the new ETA. */
  credit(work: number): void {
    this.creditedWork += work;
  }

  status(): GridStatus {
    return {
      done: this.done,
      failed: this.failed,
      total: this.o.total,
      elapsedSeconds: (this.now() - this.t0) / 1000,
      etaSeconds: this.eta(),
      workers: this.workers.map((w) => ({ ...w })),
    };
  }

  runStarted(worker: number, run: string): void {
    this.workers[worker] = { run };
    this.started[worker] = this.now();
    this.lastLine[worker] = -Infinity;
    this.changed();
  }

  stage(worker: number, stage: string, detail?: string): void {
    const w = this.workers[worker];
    // A line that says something new (another stage, or a detail of another shape than a
    // counter's next tick, e.g. a defense's decision between training steps) is printed at
    // once; else at most one line every few seconds per worker. Shapes matter in plain mode only.
    const news = this.o.tty || stage !== w.stage || shape(detail) !== shape(w.detail);
    w.stage = stage;
    w.detail = detail;
    if (this.o.tty) return this.changed();
    const t = this.now();
    if (!news && t - this.lastLine[worker] < (this.o.lineEveryMs ?? 5000)) return;
    this.lastLine[worker] = t;
    this.o.write(`${plainLine(worker, this.done + this.failed, this.o.total, this.eta(), `${w.run}: ${stage}${detail ? ` ${detail}` : ''}`)}\n`);
  }

  runFinished(worker: number, ok: boolean, error?: string): void {
    const run = this.workers[worker].run ?? '?';
    this.runSeconds.push((this.now() - this.started[worker]) / 1000);
    if (ok) this.done++;
    else this.failed++;
    this.workers[worker] = {};
    const text = ok ? `${run}: done` : `${run} FAILED: ${error ?? 'unknown error'}`;
    if (this.o.tty) {
      // Failures stay on screen above the block; successes are counted in the bar.
      if (!ok) this.log(`[w${worker + 1}] ${text}`);
      else this.changed();
    } else this.o.write(`${plainLine(worker, this.done + this.failed, this.o.total, this.eta(), text)}\n`);
  }

  /** Runs that end without a worker reporting them (a crashed worker's queue). */
  countFailed(n: number): void {
    this.failed += n;
    this.changed();
  }

  /** A line that stays (a warning, a worker's own output), printed above the block. */
  log(line: string): void {
    if (!this.o.tty) return this.o.write(`${line}\n`);
    this.o.write(`${this.clearBlock()}${line}\n`);
    this.drawnLines = 0;
    this.draw();
  }

  /** Final redraw; stops the timer. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.o.tty) this.draw();
  }

  private changed(): void {
    if (!this.o.tty) return;
    const wait = (this.o.redrawEveryMs ?? 250) - (this.now() - this.lastDraw);
    if (wait <= 0) return this.draw();
    // Coalesce bursts of events (every training step reports) into one redraw.
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.draw();
    }, wait);
    this.timer.unref?.();
  }

  /** Move to the first line of the drawn block and clear it and everything below. */
  private clearBlock(): string {
    return this.drawnLines > 0 ? `\x1b[${this.drawnLines}A\r\x1b[0J` : '';
  }

  private draw(): void {
    this.lastDraw = this.now();
    const lines = renderStatus(this.status(), this.o.columns?.() ?? 100);
    this.o.write(`${this.clearBlock()}${lines.join('\n')}\n`);
    this.drawnLines = lines.length;
  }
}

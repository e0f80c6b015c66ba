/**
 * Which run a free worker takes next. Runs share cached stages (a vision tower per seed, a
 * pre-training per chain, a backdoored SFT per chain × attack), so a run is *ready* when every stage it needs is done or
 * not yet started (it will compute it itself), and *pending* while another worker computes one
 * of them. A free worker takes the costliest ready run; it waits instead when a pending run
 * costs more than all ready runs together, since starting the small ones first would leave the
 * big one as the tail (e.g. the default profile's VQA PCR run, waiting for VQA pre-training,
 * against the cheaper caption runs). Pure bookkeeping: the runner feeds it events.
 */
import { planStages } from './grid.js';
import { runId, type RunSpec } from '../run/runSpec.js';
import { RELATIVE_UNIT_COST } from './shard.js';

type StageState = { state: 'unstarted' } | { state: 'running'; by: string } | { state: 'done' };
/** The cached stages runs share; a run's repair and evaluation are its own. */
const SHARED = new Set(['vision', 'pretrain', 'sft']);

export class Scheduler {
  private readonly todo: RunSpec[];
  private readonly needs = new Map<string, { vision?: string; pretrain: string; sft: string; probe?: string }>();
  private readonly costOf = new Map<string, number>();
  private readonly stages = new Map<string, StageState>();
  /** Runs not finished yet (to do or running), for the work left. */
  private readonly unfinished = new Set<string>();

  constructor(runs: RunSpec[], stageOf: (defenseId: string) => string, probesBackdoored?: (r: RunSpec) => boolean) {
    this.todo = [...runs];
    for (const r of runs) this.unfinished.add(runId(r));
    for (const r of runs) {
      const plan = planStages([r], stageOf, probesBackdoored);
      const key = (kind: string, probe?: true) => plan.find((s) => s.kind === kind && s.probe === probe)?.key;
      this.needs.set(runId(r), { vision: key('vision'), pretrain: key('pretrain')!, sft: key('sft')!, probe: key('sft', true) });
      for (const s of plan) {
        this.costOf.set(s.key, s.units * RELATIVE_UNIT_COST[s.kind]);
        if (SHARED.has(s.kind)) this.stages.set(s.key, { state: 'unstarted' });
      }
      this.costOf.set(runId(r), plan.filter((s) => !SHARED.has(s.kind)).reduce((a, s) => a + this.costOf.get(s.key)!, 0));
    }
  }

  get remaining(): number {
    return this.todo.length;
  }

  /** Take every run not yet started (e.g. to record them as failed when no worker is left). */
  drain(): RunSpec[] {
    const rest = this.todo.splice(0);
    for (const r of rest) this.unfinished.delete(runId(r));
    return rest;
  }

  private sharedStages(r: RunSpec): string[] {
    const n = this.needs.get(runId(r))!;
    return [...(n.vision ? [n.vision] : []), n.pretrain, ...(n.probe ? [n.probe] : []), n.sft];
  }

  /** Work the run would do itself: its own repair and eval, plus each shared stage nobody has started. */
  private cost(r: RunSpec): number {
    const own = this.sharedStages(r).filter((k) => this.stages.get(k)!.state === 'unstarted');
    return this.costOf.get(runId(r))! + own.reduce((a, k) => a + this.costOf.get(k)!, 0);
  }

  /** Whether `r` itself computes its vision tower, pre-training, SFT and the backdoored model it probes (it started them), as opposed to loading them. */
  computes(r: RunSpec): { vision: boolean; pretrain: boolean; sft: boolean; probe: boolean } {
    const n = this.needs.get(runId(r))!;
    const mine = (k: string | undefined) => {
      const st = k === undefined ? undefined : this.stages.get(k)!;
      return st?.state === 'running' && st.by === runId(r);
    };
    return { vision: mine(n.vision), pretrain: mine(n.pretrain), sft: mine(n.sft), probe: mine(n.probe) };
  }

  private isPending(r: RunSpec): boolean {
    return this.sharedStages(r).some((k) => this.stages.get(k)!.state === 'running');
  }

  /** The run for a free worker, 'wait' to hold the worker until the next event, or undefined when none is left. */
  next(): RunSpec | 'wait' | undefined {
    if (this.todo.length === 0) return undefined;
    const byCost = this.todo.map((r, i) => ({ r, i, cost: this.cost(r), pending: this.isPending(r) })).sort((a, b) => b.cost - a.cost || a.i - b.i);
    const ready = byCost.filter((x) => !x.pending);
    const pending = byCost.find((x) => x.pending);
    const readyWork = ready.reduce((a, x) => a + x.cost, 0);
    if (ready.length === 0 || (pending && pending.cost > readyWork)) return 'wait';
    const pick = ready[0].r;
    this.todo.splice(this.todo.indexOf(pick), 1);
    for (const k of this.sharedStages(pick)) if (this.stages.get(k)!.state === 'unstarted') this.stages.set(k, { state: 'running', by: runId(pick) });
    return pick;
  }

  /**
   * A run's progress: once it reports a stage after the vision tower's, the tower is in the
   * cache; after pre-training, its pre-trained model; once it reaches repair or evaluation, its
   * SFT model too (harness/run/pipeline.ts's stages, in that order).
   */
  progress(r: RunSpec, stage: string): void {
    const n = this.needs.get(runId(r))!;
    if (n.vision && stage !== 'data' && stage !== 'vision') this.stages.set(n.vision, { state: 'done' });
    if (stage !== 'data' && stage !== 'vision' && stage !== 'pretrain') this.stages.set(n.pretrain, { state: 'done' });
    if (stage === 'eval' || stage.startsWith('repair')) for (const k of n.probe ? [n.probe, n.sft] : [n.sft]) this.stages.set(k, { state: 'done' });
  }

  /**
   * The work not settled yet, in RELATIVE_UNIT_COST units: every unfinished run's own repair and
   * evaluation, and every shared stage not done. A stage an earlier invocation left in the cache
   * counts until a run loads it: the runner cannot tell it apart before.
   */
  remainingWork(): number {
    const runs = [...this.unfinished].reduce((a, id) => a + this.costOf.get(id)!, 0);
    return runs + [...this.stages].reduce((a, [k, st]) => a + (st.state === 'done' ? 0 : this.costOf.get(k)!), 0);
  }

  /** The work a finished run did itself: its own, plus the shared stages its record says it computed rather than loaded. */
  workOf(r: RunSpec, cached: Record<string, boolean>): number {
    // The record's `cached` names the shared stages as `needs` does: vision, pretrain, sft, probe.
    const computed = Object.entries(this.needs.get(runId(r))!).filter(([kind, key]) => key !== undefined && cached[kind] === false);
    return computed.reduce((a, [, key]) => a + this.costOf.get(key!)!, this.costOf.get(runId(r))!);
  }

  /** A run ended (ok or failed): whatever it was computing is settled; a failed stage is retried by the next run needing it. */
  finished(r: RunSpec, ok: boolean): void {
    this.unfinished.delete(runId(r));
    for (const k of this.sharedStages(r)) {
      const s = this.stages.get(k)!;
      if (s.state === 'running' && s.by === runId(r)) this.stages.set(k, ok ? { state: 'done' } : { state: 'unstarted' });
    }
  }
}

/**
 * The wall time of running `runs` on `workers` workers under this scheduler, given each planned
 * stage's seconds (by PlannedStage key): an event simulation of what the runner does.
 */
export function simulateWall(
  runs: RunSpec[],
  stageOf: (defenseId: string) => string,
  secondsOf: (stageKey: string) => number,
  workers: number,
  probesBackdoored?: (r: RunSpec) => boolean,
): number {
  const s = new Scheduler(runs, stageOf, probesBackdoored);
  type Event = { t: number; apply: () => void };
  const events: Event[] = [];
  const idle: number[] = Array.from({ length: workers }, (_, w) => w);
  let now = 0;
  const dispatch = () => {
    for (let i = 0; i < idle.length; ) {
      const pick = s.next();
      if (pick === 'wait' || pick === undefined) return;
      const w = idle.splice(i, 1)[0];
      const plan = planStages([pick], stageOf, probesBackdoored);
      const sec = (kind: string) => plan.filter((p) => p.kind === kind).reduce((a, p) => a + secondsOf(p.key), 0);
      const own = s.computes(pick);
      const tVision = now + (own.vision ? sec('vision') : 0);
      const tPre = tVision + (own.pretrain ? sec('pretrain') : 0);
      events.push({ t: tVision, apply: () => s.progress(pick, 'pretrain') });
      // The run's own SFT, after the backdoored model it probes, if any.
      const sfts = plan.filter((p) => p.kind === 'sft');
      const tSft = tPre + sfts.reduce((a, p) => a + ((p.probe ? own.probe : own.sft) ? secondsOf(p.key) : 0), 0);
      events.push({ t: tPre, apply: () => s.progress(pick, 'sft') });
      events.push({ t: tSft, apply: () => s.progress(pick, 'eval') });
      events.push({ t: tSft + sec('repair') + sec('eval'), apply: () => (s.finished(pick, true), idle.push(w)) });
    }
  };
  dispatch();
  while (events.length) {
    events.sort((a, b) => a.t - b.t);
    const e = events.shift()!;
    now = e.t;
    e.apply();
    dispatch();
  }
  return now;
}

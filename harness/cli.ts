/**
 * `mbb`: the one command-line tool. Commands: run, sweep, calibrate, report, merge, estimate, score, predict, worker (internal), help.
 * User errors (bad config, unreadable files) print one line and exit 2; nothing already
 * computed is lost, since every finished run and stage is on disk.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { experimentSchema, layer, parseOverride, parseWith, type ExperimentConfig } from './config.js';
import { UserError } from './errors.js';
import { loadConfigFile } from './configFile.js';
import { PROFILES } from './profiles.js';

const HELP = `mbb — mllm-backdoor-bench

Usage: mbb <command> [options]

Commands:
  run      run an experiment grid (train, attack, defend, evaluate) and write its report
             --profile NAME   smoke | default | paper (default: default)
             --config FILE    experiment config (.json, .yaml or .yml) layered over the profile
             --set k.path=v   override one field (repeatable), e.g. --set sft.epochs=4
             --out DIR        records and report (default: reports/out/<name>[-shard-<i>])
             --cache DIR      stage cache (default: .cache)
             --workers N      worker processes (default: one per core)
             --backend B      auto | tensorflow | wasm | cpu (default: auto)
             --shard i/n      run only slice i of n, numbered from 0 (0/4 … 3/4); see mbb merge
  sweep    vary a defense's knobs one at a time, judged on the validation split only;
           writes sweep/sweep.json + sweep.csv (chosen value per knob) and the report
             --defense ID     the defense to sweep (default: pcr)
             --vary k=v1,v2   values of one knob (repeatable), e.g. --vary lambdaCv=0.5,1,2,4
             --cross          every combination of the --vary values instead of one knob at a time
             --min-clean F,…  clean-metric floors × no defense's val clean metric, tried in order;
                              the first that admits a value decides (default: 0.95,0.9,0.85)
             and run's --profile, --config, --set, --out, --cache, --workers, --backend
  calibrate  climb a ladder of poisoning rates per attack without defense (≥ 3 seeds) and pick the
           smallest rate whose validation ASR has a 95% lower bound ≥ 90% while the validation
           clean metric keeps ≥ 95% of the clean model's; writes calibration/calibration.{csv,json}
             --rates r1,r2,…  the ladder (default: 0.01,0.02,0.05,0.1,0.2)
             --min-asr F      required lower bound of the validation ASR (default: 0.9)
             --min-clean F    required fraction of the clean model's clean metric (default: 0.95)
             and run's --profile, --config, --set (e.g. --set 'seeds=[1,2,3]'), --out, --cache, --workers, --backend
  report   rebuild the HTML/CSV report from the run records in --out DIR, no training
  merge    merge shards' run records into one output and write its report
             mbb merge --out DIR SHARD_DIR...   (--allow-missing: accept absent shards/runs)
  estimate the wall time of a grid on this machine, from the timings of existing run records
             --from DIR       output dir with runs/ to measure (repeatable; default: reports/out/*)
             and run's --profile, --config, --set, --workers
  score    score predictions of any model, print one JSON object
             score captions --refs COCO_CAPTIONS.json --preds COCO_RESULTS.json
             score vqa --questions Q.json --annotations A.json --preds RESULTS.json
  predict  caption a PNG (or JPEG) image, or answer a question about it, with a saved model
             mbb predict --checkpoint DIR --image FILE.png [--question "what color is the circle"]
             (DIR holds model.json + weights.bin, e.g. a stage under .cache/; --backend B)
  help     this text
`;

function resolveExperiment(values: { profile?: string; config?: string; set?: string[] }): ExperimentConfig {
  const name = values.profile ?? 'default';
  const profile = PROFILES[name];
  if (!profile) throw new UserError(`--profile ${name}: unknown profile; choose one of ${Object.keys(PROFILES).join(', ')}`);
  let cfg: Record<string, unknown> = { ...profile };
  if (values.config) cfg = layer(cfg, loadConfigFile(resolve(values.config), values.config));
  for (const s of values.set ?? []) cfg = layer(cfg, parseOverride(s));
  return parseWith(experimentSchema, cfg, values.config ? `config ${values.config}` : `profile ${name}`);
}

/** The options of every command that runs a grid (run, sweep). */
const GRID_OPTIONS = {
  profile: { type: 'string' },
  config: { type: 'string' },
  set: { type: 'string', multiple: true },
  out: { type: 'string' },
  cache: { type: 'string' },
  workers: { type: 'string' },
  backend: { type: 'string' },
} as const;

/** Where and how a grid runs on this machine: cache, workers, backend, validated. */
function machineOptions(values: { cache?: string; workers?: string; backend?: string }) {
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1)) {
    throw new UserError(`--workers ${values.workers}: expected a whole number ≥ 1`);
  }
  if (values.backend && !['auto', 'tensorflow', 'wasm', 'cpu'].includes(values.backend)) {
    throw new UserError(`--backend ${values.backend}: expected auto, tensorflow, wasm or cpu`);
  }
  return { cacheDir: resolve(values.cache ?? '.cache'), workers, backend: values.backend };
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP);
      return;
    case 'run': {
      const { values } = parseArgs({ args: rest, options: { ...GRID_OPTIONS, shard: { type: 'string' } } });
      const exp = resolveExperiment(values);
      const { parseShard } = await import('./shard.js');
      const shard = values.shard === undefined ? undefined : parseShard(values.shard);
      // A slice gets its own folder by default, so slices on one file system never mix.
      const outDir = resolve(values.out ?? `reports/out/${exp.name}${shard ? `-shard-${shard.index}` : ''}`);
      const { runGrid } = await import('./runner.js');
      const res = await runGrid(exp, { ...machineOptions(values), outDir, shard });
      const { writeReport } = await import('../reports/write.js');
      for (const p of writeReport(outDir, exp.name)) process.stderr.write(`[report] wrote ${p}\n`);
      if (res.failed > 0) process.exitCode = 1;
      return;
    }
    case 'sweep': {
      const { values } = parseArgs({
        args: rest,
        options: { ...GRID_OPTIONS, defense: { type: 'string' }, vary: { type: 'string', multiple: true }, cross: { type: 'boolean' }, 'min-clean': { type: 'string' } },
      });
      const { DEFAULT_FLOORS, parseVary, runSweep } = await import('./sweep.js');
      const defense = values.defense ?? 'pcr';
      if (!values.vary?.length) throw new UserError('sweep: give at least one --vary knob=v1,v2,…');
      const minClean = values['min-clean'] === undefined ? DEFAULT_FLOORS : values['min-clean'].split(',').map(Number);
      if (!minClean.every((f) => f >= 0 && f <= 1)) {
        throw new UserError(`--min-clean ${values['min-clean']}: expected fractions in [0, 1], tried in order, e.g. --min-clean 0.95,0.9`);
      }
      const exp = resolveExperiment(values);
      const points = await runSweep(exp, { defense, vary: Object.fromEntries(values.vary.map(parseVary)), cross: values.cross ?? false, minClean }, {
        ...machineOptions(values),
        outDir: resolve(values.out ?? `reports/out/sweep-${defense}`),
      });
      for (const p of points.filter((x) => x.chosen)) process.stdout.write(`${p.task}: ${p.knob} = ${p.value} (val ASR ${(100 * p.valAsr).toFixed(1)}%, val clean ${p.valClean.toFixed(3)}, floor ${p.floor})\n`);
      return;
    }
    case 'calibrate': {
      const { values } = parseArgs({ args: rest, options: { ...GRID_OPTIONS, rates: { type: 'string' }, 'min-asr': { type: 'string' }, 'min-clean': { type: 'string' } } });
      const { DEFAULT_LADDER, DEFAULT_RULE, runCalibration } = await import('./calibrate.js');
      const fraction = (flag: string, v: string | undefined, dflt: number) => {
        const x = v === undefined ? dflt : Number(v);
        if (!(x >= 0 && x <= 1)) throw new UserError(`--${flag} ${v}: expected a fraction in [0, 1], e.g. --${flag} ${dflt}`);
        return x;
      };
      const rates = values.rates === undefined ? DEFAULT_LADDER : values.rates.split(',').map(Number);
      const spec = { rates, minAsr: fraction('min-asr', values['min-asr'], DEFAULT_RULE.minAsr), minCleanRatio: fraction('min-clean', values['min-clean'], DEFAULT_RULE.minCleanRatio) };
      const exp = resolveExperiment(values);
      const rows = await runCalibration(exp, spec, { ...machineOptions(values), outDir: resolve(values.out ?? `reports/out/${exp.name}-calibrate`) });
      for (const r of rows.filter((x) => x.verdict)) {
        const what = r.verdict === 'chosen' ? `rate ${r.rate}` : `reached no rung (closest: rate ${r.rate})`;
        process.stdout.write(`${r.task}/${r.model}/${r.attack}: ${what}: val ASR ${r.valAsr.toFixed(1)}% [${r.valAsrLo.toFixed(1)}, ${r.valAsrHi.toFixed(1)}], clean ${(100 * r.cleanRatio).toFixed(1)}% of the clean model's\n`);
      }
      return;
    }
    case 'report': {
      const { values } = parseArgs({ args: rest, options: { out: { type: 'string' }, title: { type: 'string' } } });
      if (!values.out) throw new UserError('report: --out DIR is required (the directory holding runs/)');
      const { writeReport } = await import('../reports/write.js');
      for (const p of writeReport(resolve(values.out), values.title ?? 'report')) process.stderr.write(`[report] wrote ${p}\n`);
      return;
    }
    case 'merge': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { out: { type: 'string' }, 'allow-missing': { type: 'boolean' } } });
      if (!values.out) throw new UserError('merge: --out DIR is required (where the merged runs/ and report go); usage: mbb merge --out DIR SHARD_DIR...');
      const { mergeShards } = await import('./merge.js');
      const res = mergeShards(values.out, positionals, { allowMissing: values['allow-missing'] });
      process.stderr.write(
        `[merge] ${res.copied} record(s) copied, ${res.duplicates} identical duplicate(s) skipped, ${res.superseded} failed record(s) superseded` +
          `${res.missing.length ? `, ${res.missing.length} missing (allowed)` : ''}\n`,
      );
      const { writeReport } = await import('../reports/write.js');
      for (const p of writeReport(resolve(values.out), res.experiment ?? 'report')) process.stderr.write(`[report] wrote ${p}\n`);
      return;
    }
    case 'estimate': {
      const { values } = parseArgs({
        args: rest,
        options: {
          profile: { type: 'string' },
          config: { type: 'string' },
          set: { type: 'string', multiple: true },
          workers: { type: 'string' },
          from: { type: 'string', multiple: true },
        },
      });
      const exp = resolveExperiment(values);
      const workers = values.workers === undefined ? undefined : Number(values.workers);
      if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1)) throw new UserError(`--workers ${values.workers}: expected a whole number ≥ 1`);
      const { existsSync, readdirSync } = await import('node:fs');
      const { availableParallelism } = await import('node:os');
      const from = values.from ?? (existsSync('reports/out') ? readdirSync('reports/out').map((d) => `reports/out/${d}`).filter((d) => existsSync(`${d}/runs`)) : []);
      if (from.length === 0) throw new UserError('estimate: no run records to measure; pass --from DIR (an --out of mbb run) or run mbb run --profile default first');
      const { readRecords } = await import('../reports/write.js');
      const { estimateGrid, formatEstimate } = await import('./estimate.js');
      const { defenseStage } = await import('./runner.js');
      const records = from.flatMap((d) => readRecords(resolve(d)));
      const n = workers ?? exp.workers ?? availableParallelism();
      const header = `mbb estimate: ${values.profile ?? 'default'} profile${values.config ? ` + ${values.config}` : ''}, measured from ${records.length} record(s) in ${from.join(', ')}`;
      process.stdout.write(formatEstimate(estimateGrid(exp, records, n, defenseStage), header));
      return;
    }
    case 'score': {
      const [kind, ...args] = rest;
      const { values } = parseArgs({
        args,
        options: { refs: { type: 'string' }, preds: { type: 'string' }, questions: { type: 'string' }, annotations: { type: 'string' } },
      });
      const need = (k: keyof typeof values) => {
        if (!values[k]) throw new UserError(`score ${kind}: --${k} FILE is required`);
        return values[k]!;
      };
      const score = await import('./score.js');
      let result: unknown;
      if (kind === 'captions') result = score.scoreCaptionFiles(need('refs'), need('preds'));
      else if (kind === 'vqa') result = score.scoreVqaFiles(need('questions'), need('annotations'), need('preds'));
      else throw new UserError(`score: expected "captions" or "vqa", got ${JSON.stringify(kind ?? '')}`);
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return;
    }
    case 'predict': {
      const { values } = parseArgs({
        args: rest,
        options: { checkpoint: { type: 'string' }, image: { type: 'string' }, question: { type: 'string' }, backend: { type: 'string' } },
      });
      if (!values.checkpoint || !values.image) throw new UserError('predict: --checkpoint DIR and --image FILE.png are required');
      if (values.backend && !['auto', 'tensorflow', 'wasm', 'cpu'].includes(values.backend)) {
        throw new UserError(`--backend ${values.backend}: expected auto, tensorflow, wasm or cpu`);
      }
      const { predictMain } = await import('./predict.js');
      const backend = values.backend as import('./engine.js').BackendName | undefined;
      await predictMain({ checkpoint: values.checkpoint, image: values.image, question: values.question, backend });
      return;
    }
    case 'worker': {
      const { values } = parseArgs({ args: rest, options: { out: { type: 'string' }, cache: { type: 'string' }, backend: { type: 'string' } } });
      const { workerMain } = await import('./worker.js');
      await workerMain({ outDir: values.out!, cacheDir: values.cache!, backend: values.backend });
      return;
    }
    default:
      throw new UserError(`unknown command "${command}"; run \`mbb help\``);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof UserError || (e as { code?: string }).code?.startsWith?.('ERR_PARSE_ARGS')) {
    process.stderr.write(`mbb: ${(e as Error).message}\n`);
    process.exit(2);
  }
  throw e;
});

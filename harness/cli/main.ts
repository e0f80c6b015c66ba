/**
 * `mbb`: the one command-line tool (commander). Commands: run, sweep, calibrate, slurm, report,
 * merge, estimate, score, predict, help, and the internal worker. Every command has `--help`; unknown
 * commands and options get a suggestion. Usage errors and user errors (bad config, unreadable
 * files) print one line and exit 2; nothing already computed is lost, since every finished run
 * and stage is on disk. Help and usage errors load no registry: each action imports what it needs.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Argument, Command, CommanderError, Option } from 'commander';
import { UserError } from '../core/errors.js';
import { MAX_WORKERS } from '../config/schema.js';
import { BACKENDS, collect, fraction, fractions, gridOptions, machine, pluginOption, PROFILE_NAMES, resolveExperiment, whole, workersOption, writeReportOf, type GridValues } from './options.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
/** What `mbb report` writes: the HTML report with its CSV tables, or the Markdown results page. */
const REPORT_FORMATS = ['html', 'markdown'];

export function buildProgram(): Command {
  const program = new Command('mbb')
    .description('mllm-backdoor-bench: backdoor attacks and defenses for small multimodal LLMs')
    .version(VERSION, '-v, --version')
    .exitOverride()
    .showSuggestionAfterError()
    .configureHelp({ sortSubcommands: false, showGlobalOptions: false });

  gridOptions(program.command('run').description('run an experiment grid (train, attack, defend, evaluate) and write its report'), 'reports/out/<name>[-shard-<i>]')
    .option('--shard <i/n>', 'run only slice i of n, numbered from 0 (0/4 … 3/4); see mbb merge')
    .option('--only <run-id>', 'run only the runs with this id, * matching any characters (repeatable), e.g. caption__llava__sig__none__s1', collect)
    .option('--dry-run', 'run nothing, write nothing: count the runs done and to do (and why), and list the latter on stdout')
    .action(async (v: GridValues & { shard?: string; only?: string[]; dryRun?: boolean }) => {
      const exp = await resolveExperiment(v);
      const { parseShard } = await import('../plan/shard.js');
      const shard = v.shard === undefined ? undefined : parseShard(v.shard);
      // A slice gets its own folder by default, so slices on one file system never mix.
      const outDir = resolve(v.out ?? `reports/out/${exp.name}${shard ? `-shard-${shard.index}` : ''}`);
      if (v.dryRun) {
        const { dryRun, describeDryRun } = await import('../exec/dryRun.js');
        const { summary, todo } = describeDryRun(await dryRun(exp, { outDir, shard, onlyIds: v.only }));
        process.stderr.write(`${summary.join('\n')}\n`);
        if (todo.length) process.stdout.write(`${todo.join('\n')}\n`);
        return;
      }
      const { runGrid } = await import('../exec/runner.js');
      const res = await runGrid(exp, { ...machine(v), outDir, shard, onlyIds: v.only });
      await writeReportOf(outDir, exp.name);
      if (res.failed > 0) process.exitCode = 1;
    });

  gridOptions(
    program.command('sweep').description("vary a defense's knobs one at a time, judged on the validation split only; writes sweep/sweep.json + sweep.csv and the report"),
    'reports/out/sweep-<defense>',
  )
    .option('--defense <id>', 'the defense to sweep', 'pcr')
    .requiredOption('--vary <knob=v1,v2>', 'values of one knob (repeatable), e.g. --vary lambdaCv=0.5,1,2,4', collect)
    .option('--cross', 'every combination of the --vary values instead of one knob at a time', false)
    .option('--min-clean <f,…>', "clean-metric floors × no defense's val clean metric, tried in order; the first that admits a value decides", fractions)
    .action(async (v: GridValues & { defense: string; vary?: string[]; cross: boolean; minClean?: number[] }) => {
      const { DEFAULT_FLOORS, parseVary, runSweep } = await import('../exec/sweep.js');
      if (!v.vary?.length) throw new UserError('sweep: give at least one --vary knob=v1,v2,…');
      const exp = await resolveExperiment(v);
      const spec = { defense: v.defense, vary: Object.fromEntries(v.vary.map(parseVary)), cross: v.cross, minClean: v.minClean ?? DEFAULT_FLOORS };
      const points = await runSweep(exp, spec, { ...machine(v), outDir: resolve(v.out ?? `reports/out/sweep-${v.defense}`) });
      for (const p of points.filter((x) => x.chosen)) process.stdout.write(`${p.task}: ${p.knob} = ${p.value} (val ASR ${(100 * p.valAsr).toFixed(1)}%, val clean ${p.valClean.toFixed(3)}, floor ${p.floor})\n`);
    });

  gridOptions(
    program
      .command('calibrate')
      .description(
        "climb a ladder of poisoning rates per attack without defense (≥ 3 seeds), then the attack's stronger settings at the top rate, and pick the first rung whose validation ASR has a 95% lower bound ≥ 90% while keeping ≥ 95% of the clean model's clean metric; writes calibration/calibration.{csv,json}",
      ),
    'reports/out/<name>-calibrate',
  )
    .option('--rates <r1,r2,…>', 'the ladder (default: 0.01,0.02,0.05,0.1,0.2)', fractions)
    .option('--min-asr <f>', 'required lower bound of the validation ASR (default: 0.9)', fraction)
    .option('--min-clean <f>', "required fraction of the clean model's clean metric (default: 0.95)", fraction)
    .option('--every-rung', 'run the whole ladder, also above the chosen rung (default: an attack stops climbing at its chosen rung)', false)
    .option('--no-strength', "stop at the top rate: do not climb an attack's stronger settings (its patch size, blend α, …) where no rate implants it")
    .action(async (v: GridValues & { rates?: number[]; minAsr?: number; minClean?: number; everyRung: boolean; strength: boolean }) => {
      const { DEFAULT_LADDER, DEFAULT_RULE, runCalibration } = await import('../exec/calibrate.js');
      const spec = { rates: v.rates ?? DEFAULT_LADDER, minAsr: v.minAsr ?? DEFAULT_RULE.minAsr, minCleanRatio: v.minClean ?? DEFAULT_RULE.minCleanRatio, everyRung: v.everyRung, strength: v.strength };
      const exp = await resolveExperiment(v);
      const rows = await runCalibration(exp, spec, { ...machine(v), outDir: resolve(v.out ?? `reports/out/${exp.name}-calibrate`) });
      for (const r of rows.filter((x) => x.verdict)) {
        const rung = `rate ${r.rate}${r.strength ? ` with ${r.strength}` : ''}`;
        const what = r.verdict === 'chosen' ? rung : `reached no rung (closest: ${rung})`;
        process.stdout.write(
          `${r.task}/${r.model}/${r.attack}: ${what}: val ASR ${r.valAsr.toFixed(1)}% [${r.valAsrLo.toFixed(1)}, ${r.valAsrHi.toFixed(1)}], clean ${(100 * r.cleanRatio).toFixed(1)}% of the clean model's\n`,
        );
      }
    });

  program
    .command('slurm')
    .description('write a Slurm array job (one task per slice of the grid, --shard i/n) and its dependent merge under --out, to submit as they are')
    .addOption(new Option('--profile <name>', 'experiment profile').choices(PROFILE_NAMES).default('default'))
    .option('--config <file>', 'experiment config (.json, .yaml or .yml) layered over the profile')
    .option('--set <key.path=value>', 'override one field (repeatable)', collect)
    .requiredOption('--shards <n>', 'slices of the grid, one array task each', whole(1, 10_000))
    .requiredOption('--cpus <c>', 'CPUs per slice (sbatch --cpus-per-task), one worker each', whole(1, MAX_WORKERS))
    .option('--out <dir>', 'merged records and report; the slices and Slurm files go under it (default: reports/out/<name>)')
    .option('--cache <dir>', 'stage cache shared by the slices', '.cache')
    .addOption(new Option('--backend <b>', 'TF.js backend').choices(BACKENDS))
    .option('--time <limit>', "each slice's sbatch --time, e.g. 24:00:00")
    .action(async (v: import('../exec/slurm.js').SlurmOptions) => {
      const exp = await resolveExperiment(v);
      const { planSlurm, slurmDir, writeSlurmFiles } = await import('../exec/slurm.js');
      const plan = planSlurm(exp, v);
      const submit = join(slurmDir(plan.outDir), 'submit.sh');
      process.stdout.write(
        `mbb slurm: ${plan.shards} slice(s) × ${plan.cpus} CPU(s) of ${exp.name}; wrote\n${writeSlurmFiles(plan).map((p) => `  ${p}\n`).join('')}` +
          `submit the slices and their merge: ${submit}\n` +
          `re-run cancelled or failed slices (their finished runs are skipped), e.g. slice ${plan.shards - 1}: ${submit} ${plan.shards - 1}\n` +
          `merged records and report: ${plan.outDir}; slices in ${join(plan.outDir, 'shards')}; Slurm logs in ${join(slurmDir(plan.outDir), 'logs')}\n`,
      );
    });

  program
    .command('report')
    .description('rebuild the report from the run records in --out DIR, no training: the HTML page and CSV tables, or the Markdown results page')
    .requiredOption('--out <dir>', 'the directory holding runs/')
    .addOption(new Option('--format <f>', 'html: report.html, CSV tables and trigger PNGs in --out; markdown: the results page (docs/reporting.md)').choices(REPORT_FORMATS).default('html'))
    .option('--to <file>', 'markdown: the page to write (default: <out>/results.md)')
    .option('--title <text>', 'page title (default: report; results for markdown)')
    .addOption(pluginOption('the attack files from outside the repository that the runs used, to draw their triggers (repeatable)'))
    .action(async (v: { out: string; format: string; to?: string; title?: string; plugin?: string[] }) => {
      if (v.format === 'markdown') {
        const { writeMarkdownReport } = await import('../../reports/write.js');
        process.stderr.write(`[report] wrote ${writeMarkdownReport(resolve(v.out), v.to ? resolve(v.to) : undefined, v.title)}\n`);
        return;
      }
      if (v.to) throw new UserError('report: --to names the Markdown page; add --format markdown, or drop --to (the HTML report goes to --out)');
      // The trigger gallery draws each attack's trigger: one from a plugin file needs its file.
      const { loadPluginFiles } = await import('../plan/externalPlugins.js');
      await loadPluginFiles(v.plugin?.map((p) => resolve(p)));
      await writeReportOf(resolve(v.out), v.title ?? 'report');
    });

  program
    .command('merge')
    .description("merge shards' run records into one output and write its report")
    .argument('<shard-dirs...>', "the --out directories the shards wrote; a quoted pattern ('reports/out/paper-shard-*') or their parent folder")
    .requiredOption('--out <dir>', 'where the merged runs/ and report go')
    .option('--allow-missing', 'accept absent shards or runs (a partial report)', false)
    .action(async (dirs: string[], v: { out: string; allowMissing: boolean }) => {
      const { mergeShards } = await import('../exec/merge.js');
      const res = mergeShards(v.out, dirs, { allowMissing: v.allowMissing });
      process.stderr.write(
        `[merge] ${res.copied} record(s) copied, ${res.duplicates} identical duplicate(s) skipped, ${res.superseded} failed record(s) superseded` +
          `${res.missing.length ? `, ${res.missing.length} missing (allowed)` : ''}\n`,
      );
      await writeReportOf(resolve(v.out), res.experiment ?? 'report');
    });

  program
    .command('estimate')
    .description('the wall time of a grid on this machine, from the timings of existing run records')
    .addOption(new Option('--profile <name>', 'experiment profile').choices(PROFILE_NAMES).default('default'))
    .option('--config <file>', 'experiment config layered over the profile')
    .option('--set <key.path=value>', 'override one field (repeatable)', collect)
    .addOption(pluginOption())
    .addOption(workersOption())
    .option('--from <dir>', 'output dir with runs/ to measure (repeatable; default: reports/out/*)', collect)
    .action(async (v: { profile: string; config?: string; set?: string[]; plugin?: string[]; workers?: number; from?: string[] }) => {
      const exp = await resolveExperiment(v);
      const { existsSync, readdirSync } = await import('node:fs');
      const { availableParallelism } = await import('node:os');
      const from = v.from?.length ? v.from : existsSync('reports/out') ? readdirSync('reports/out').map((d) => `reports/out/${d}`).filter((d) => existsSync(`${d}/runs`)) : [];
      if (from.length === 0) throw new UserError('estimate: no run records to measure; pass --from DIR (an --out of mbb run) or run mbb run --profile default first');
      const { readRecords } = await import('../../reports/write.js');
      const { estimateGrid, formatEstimate } = await import('../plan/estimate.js');
      const { defenseStage, probesBackdoored } = await import('../plan/validate.js');
      const records = from.flatMap((d) => readRecords(resolve(d)));
      const n = v.workers ?? exp.workers ?? availableParallelism();
      const header = `mbb estimate: ${v.profile} profile${v.config ? ` + ${v.config}` : ''}, measured from ${records.length} record(s) in ${from.join(', ')}`;
      process.stdout.write(formatEstimate(estimateGrid(exp, records, n, defenseStage, probesBackdoored), header));
    });

  program
    .command('score')
    .description('score predictions of any model, print one JSON object')
    .addArgument(new Argument('<kind>', 'what the predictions are').choices(['captions', 'vqa']))
    .option('--refs <file>', 'captions: COCO-format reference captions')
    .option('--preds <file>', 'predictions (COCO results, or VQA results)')
    .option('--questions <file>', 'vqa: the questions file')
    .option('--annotations <file>', 'vqa: the annotations file')
    .action(async (kind: string, v: { refs?: string; preds?: string; questions?: string; annotations?: string }) => {
      const need = (k: keyof typeof v) => {
        if (!v[k]) throw new UserError(`score ${kind}: --${k} FILE is required`);
        return v[k]!;
      };
      const score = await import('./score.js');
      const result = kind === 'captions' ? score.scoreCaptionFiles(need('refs'), need('preds')) : score.scoreVqaFiles(need('questions'), need('annotations'), need('preds'));
      process.stdout.write(`${JSON.stringify(result)}\n`);
    });

  program
    .command('predict')
    .description('caption a PNG (or JPEG) image, or answer a question about it, with a saved model (a stage under .cache/)')
    .requiredOption('--checkpoint <dir>', 'a folder holding model.json + weights.bin')
    .requiredOption('--image <file>', 'the image')
    .option('--question <text>', 'a question (VQA); without it, a caption')
    .addOption(new Option('--backend <b>', 'TF.js backend').choices(BACKENDS))
    .action(async (v: { checkpoint: string; image: string; question?: string; backend?: string }) => {
      const { predictMain } = await import('./predict.js');
      await predictMain({ checkpoint: v.checkpoint, image: v.image, question: v.question, backend: v.backend as import('../core/engine.js').BackendName | undefined });
    });

  program
    .command('worker', { hidden: true })
    .requiredOption('--out <dir>')
    .requiredOption('--cache <dir>')
    .option('--backend <b>')
    .option('--plugin <file>', 'a plugin file of the runner (absolute)', collect)
    .action(async (v: { out: string; cache: string; backend?: string; plugin?: string[] }) => {
      const { workerMain } = await import('../exec/worker.js');
      await workerMain({ outDir: v.out, cacheDir: v.cache, backend: v.backend, plugins: v.plugin });
    });

  return program;
}

/** Usage errors exit 2 (after commander printed them), help and --version exit 0. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  if (argv.length === 0) {
    program.outputHelp();
    return;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exit(e.exitCode === 0 ? 0 : 2);
    }
    if (e instanceof UserError) {
      process.stderr.write(`mbb: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
}


/**
 * The options `mbb`'s commands share (cli/main.ts): the grid's (profile, config, overrides,
 * plugin files, output, cache, workers, backend), their parsers, and the experiment they
 * resolve to.
 */
import { dirname, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { MAX_WORKERS, type ExperimentConfig } from '../config/schema.js';

/** The profiles of harness/config/profiles.ts, listed here so that help needs no registry (a test keeps them equal). */
export const PROFILE_NAMES = ['smoke', 'default', 'paper', 'results', 'mllm-defenses', 'remove-probe', 'remove-union'];
export const BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu'];

export interface GridValues {
  profile: string;
  config?: string;
  set?: string[];
  plugin?: string[];
  out?: string;
  cache: string;
  workers?: number;
  backend?: string;
}

/** Plugin paths as absolute ones: a config's relative to its own folder (so it works from anywhere), others to the working directory. */
function resolvePlugins(cfg: Record<string, unknown>, base: string): Record<string, unknown> {
  if (!Array.isArray(cfg.plugins)) return cfg; // not a list: the schema names the field and the value
  return { ...cfg, plugins: cfg.plugins.map((p: unknown) => (typeof p === 'string' && p !== '' ? resolve(base, p) : p)) };
}

/**
 * The experiment of the profile, config, --set overrides and --plugin files, validated; the
 * plugin files are loaded, so that their ids are known to everything after.
 */
export async function resolveExperiment(values: { profile: string; config?: string; set?: string[]; plugin?: string[] }): Promise<ExperimentConfig> {
  const { experimentSchema, layer, parseOverride, parseWith } = await import('../config/schema.js');
  const { loadConfigFile } = await import('../config/file.js');
  const { PROFILES } = await import('../config/profiles.js');
  let cfg: Record<string, unknown> = { ...PROFILES[values.profile] };
  if (values.config) cfg = layer(cfg, resolvePlugins(loadConfigFile(resolve(values.config), values.config), dirname(resolve(values.config))));
  for (const s of values.set ?? []) cfg = layer(cfg, resolvePlugins(parseOverride(s), process.cwd()));
  // --plugin adds to the config's files rather than replacing them.
  if (values.plugin?.length) cfg = { ...cfg, plugins: [...((cfg.plugins as unknown[]) ?? []), ...values.plugin.map((p) => resolve(p))] };
  const exp = parseWith(experimentSchema, cfg, values.config ? `config ${values.config}` : `profile ${values.profile}`);
  const { loadPluginFiles } = await import('../plan/externalPlugins.js');
  await loadPluginFiles(exp.plugins);
  return exp;
}

export function pluginOption(what = "an attack or defense file from outside the repository (repeatable; adds to the config's plugins)"): Option {
  return new Option('--plugin <file>', what).argParser(collect);
}

export const collect = (v: string, acc: string[] = []) => [...acc, v];

/** A commander parser for a whole number in [lo, hi]. */
export const whole = (lo: number, hi: number) => (v: string) => {
  const n = Number(v);
  if (!(Number.isInteger(n) && n >= lo && n <= hi)) throw new InvalidArgumentError(`expected a whole number from ${lo} to ${hi}.`);
  return n;
};

export function workersOption(): Option {
  return new Option('--workers <n>', 'worker processes (default: one per core)').argParser(whole(1, MAX_WORKERS));
}

export function fraction(v: string): number {
  const x = Number(v);
  if (!(x >= 0 && x <= 1)) throw new InvalidArgumentError('expected a fraction in [0, 1].');
  return x;
}

export function fractions(v: string): number[] {
  return v.split(',').map((x) => fraction(x.trim()));
}

/** The options of every command that runs a grid (run, sweep, calibrate). */
export function gridOptions(cmd: Command, outDefault: string): Command {
  return cmd
    .addOption(new Option('--profile <name>', 'experiment profile').choices(PROFILE_NAMES).default('default'))
    .option('--config <file>', 'experiment config (.json, .yaml or .yml) layered over the profile')
    .option('--set <key.path=value>', 'override one field (repeatable), e.g. --set sft.epochs=4', collect)
    .addOption(pluginOption())
    .option('--out <dir>', `records and report (default: ${outDefault})`)
    .option('--cache <dir>', 'stage cache', '.cache')
    .addOption(workersOption())
    .addOption(new Option('--backend <b>', 'TF.js backend').choices(BACKENDS));
}

export const machine = (v: GridValues) => ({ cacheDir: resolve(v.cache), workers: v.workers, backend: v.backend });

export async function writeReportOf(outDir: string, title: string): Promise<void> {
  const { writeReport } = await import('../../reports/write.js');
  for (const p of writeReport(outDir, title)) process.stderr.write(`[report] wrote ${p}\n`);
}


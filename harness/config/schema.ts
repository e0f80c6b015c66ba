/**
 * Experiment configuration: one validated schema with defaults (zod). A profile is a partial
 * config layered over the defaults; command-line overrides are layered over the profile.
 * Every error names the field and the bad value.
 */
import { z } from 'zod';
import { checkDataTask, dataSchema } from '../data/config.js';
import { closest, UserError } from '../core/errors.js';

const pluginRef = z.object({
  id: z.string().min(1),
  /** Plugin-specific parameters, validated by the plugin's own schema. */
  params: z.record(z.string(), z.unknown()).default({}),
  /** Label in tables; default: the id. */
  label: z.string().optional(),
  /**
   * Parameters for one task's runs only, over `params` (an attack's calibrated rate differs by
   * task: `{ "id": "badnets", "params": { "rate": 0.2 }, "perTask": { "vqa": { "rate": 0.02 } } }`).
   */
  perTask: z.partialRecord(z.enum(['caption', 'vqa']), z.record(z.string(), z.unknown())).optional(),
});
export type PluginRef = z.infer<typeof pluginRef>;

const trainSchema = (epochs: number, lr: number) =>
  z
    .object({
      epochs: z.number().int().min(0).default(epochs),
      batchSize: z.number().int().min(1).default(32),
      lr: z.number().positive().max(1).default(lr),
      /** Learning-rate schedule: linear warm-up then cosine decay to 10%, or constant. */
      schedule: z.enum(['cosine', 'constant']).default('cosine'),
      /** Warm-up as a fraction of all steps. */
      warmup: z.number().min(0).max(1).default(0.05),
    })
    .strict()
    .default({ epochs, batchSize: 32, lr, schedule: 'cosine', warmup: 0.05 });

/** The most worker processes a grid may ask for, in a config or on the command line. */
export const MAX_WORKERS = 64;

export const experimentSchema = z
  .object({
    name: z.string().default('default'),
    seeds: z.array(z.number().int()).min(1).default([1]),
    tasks: z.array(z.enum(['caption', 'vqa'])).min(1).default(['caption', 'vqa']),
    models: z.array(z.string()).min(1).default(['llava']),
    attacks: z.array(pluginRef).min(1).default([{ id: 'badnets', params: {} }]),
    /**
     * Poisoning-rate axis: each attack runs once per rate (its params.rate overridden, label
     * `<attack>@<rate>`). Optional without a default, so configs without it hash as before.
     */
    rates: z.array(z.number().min(0).max(1)).min(1).optional(),
    defenses: z
      .array(pluginRef)
      .min(1)
      .default([
        { id: 'none', params: {} },
        { id: 'pcr', params: {} },
      ]),
    data: dataSchema,
    model: z
      .object({
        patch: z.number().int().min(1).default(4),
        merge: z.number().int().min(1).default(2),
        width: z.number().int().min(8).default(64),
        heads: z.number().int().min(1).default(4),
        encoderLayers: z.number().int().min(0).default(1),
        decoderLayers: z.number().int().min(1).default(3),
        mlpRatio: z.number().int().min(1).default(4),
        // Family knobs, read only by their family. Unset = the model file's default (not filled in
        // here, so the other families' resolved configs and cache keys do not change).
        /** blip2: Q-Former query tokens, the LM's visual prefix length (default 8). */
        queries: z.number().int().min(1).optional(),
        /** blip2: Q-Former layers (default 2). */
        qformerLayers: z.number().int().min(1).optional(),
        /** flamingo: a gated cross-attention layer before every k-th LM block (default 1: all). */
        crossEvery: z.number().int().min(1).optional(),
      })
      .strict()
      .default({ patch: 4, merge: 2, width: 64, heads: 4, encoderLayers: 1, decoderLayers: 3, mlpRatio: 4 }),
    /**
     * The vision tower's own pre-training before the LM's (harness/run/vision.ts; cached per tower
     * sizes × seed, shared by tasks and families) and whether it then stays frozen, as LLaVA
     * keeps its CLIP encoder. Optional without a default, so configs without it hash as before.
     */
    vision: z
      .object({
        epochs: z.number().int().min(1).default(20),
        /** Scenes in the tower's own ShapesWorld corpus. */
        images: z.number().int().min(1).default(3000),
        batchSize: z.number().int().min(1).default(32),
        lr: z.number().positive().max(1).default(2e-3),
        /** Keep the tower's weights fixed through LM pre-training, SFT and repair. */
        freeze: z.boolean().default(true),
      })
      .strict()
      .optional(),
    /** Clean pre-training (cached per model × task × seed), then SFT on the poisoned split. */
    pretrain: trainSchema(20, 2e-3),
    sft: trainSchema(6, 1e-3),
    text: z
      .object({
        captionMaxText: z.number().int().min(4).default(24),
        vqaMaxText: z.number().int().min(4).default(12),
        /**
         * Vocabulary slots held free for words the training data lacks (a run's target and
         * trigger words), so that the vocabulary depends on the data alone (tokenizer.ts).
         */
        reservedWords: z.number().int().min(0).max(1000).default(16),
      })
      .strict()
      .default({ captionMaxText: 24, vqaMaxText: 12, reservedWords: 16 }),
    eval: z
      .object({
        batchSize: z.number().int().min(1).default(100),
        /** Number of test samples used (≤ the split). 0 = all. */
        limit: z.number().int().min(0).default(0),
      })
      .strict()
      .default({ batchSize: 100, limit: 0 }),
    workers: z.number().int().min(1).max(MAX_WORKERS).optional(),
    /**
     * Attack and defense files from outside the repository (harness/plan/externalPlugins.ts), as
     * absolute paths once the CLI has resolved them. Like `workers`, where files live is not a
     * result: the grid drops it (grid.ts), and a file's content enters its runs' code hash.
     */
    plugins: z.array(z.string().min(1)).optional(),
    /**
     * Per-task overrides layered over this config for that task's runs, e.g.
     * `{ vqa: { data: { nTrain: 6000 } } }`: tasks differ in sample cost and difficulty.
     */
    perTask: z.partialRecord(z.enum(['caption', 'vqa']), z.record(z.string(), z.unknown())).default({}),
  })
  .strict();

export type ExperimentConfig = z.infer<typeof experimentSchema>;

/** The config a task's runs use: the base with that task's overrides layered on and validated. */
export function configForTask(exp: ExperimentConfig, task: 'caption' | 'vqa'): ExperimentConfig {
  const over = exp.perTask[task];
  const out = over ? parseWith(experimentSchema, layer({ ...exp, perTask: {} }, over), `perTask.${task}`) : exp;
  checkDataTask(out.data, task, over?.data ? `perTask.${task}.data` : 'data');
  return out;
}

/** One line per problem: `where: message (got value)`, and for a misspelt key the nearest known one. */
export function formatIssues(source: string, error: z.ZodError, input: unknown, schema?: z.ZodType): string {
  return error.issues
    .map((i) => {
      const at = i.path.length ? i.path.join('.') : '(top level)';
      if (i.code === 'unrecognized_keys') {
        const known = schema ? keysAt(schema, i.path) : [];
        const hints = i.keys.map((k) => {
          const near = closest(k, known);
          return near ? `"${k}" (did you mean "${near}"?)` : `"${k}"`;
        });
        return `${source}: ${at}: unknown key${i.keys.length > 1 ? 's' : ''} ${hints.join(', ')}${known.length ? `; known keys: ${known.join(', ')}` : ''}`;
      }
      const got = valueAt(input, i.path);
      const shown = got === undefined ? '' : ` (got ${JSON.stringify(got)})`;
      return `${source}: ${at}: ${i.message}${shown}`;
    })
    .join('; ');
}

/** The keys an object schema accepts at `path` (through defaults, optionals and transforms). */
export function keysAt(schema: z.ZodType, path: PropertyKey[]): string[] {
  type Def = { type: string; shape?: Record<string, z.ZodType>; innerType?: z.ZodType; in?: z.ZodType };
  const def = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;
  const unwrap = (s: z.ZodType): z.ZodType => {
    const d = def(s);
    if (d.innerType) return unwrap(d.innerType);
    if (d.type === 'pipe' && d.in) return unwrap(d.in);
    return s;
  };
  let cur = unwrap(schema);
  for (const k of path) {
    const shape = def(cur).shape;
    if (!shape || typeof k !== 'string' || !(k in shape)) return [];
    cur = unwrap(shape[k]);
  }
  return Object.keys(def(cur).shape ?? {});
}



function valueAt(obj: unknown, path: PropertyKey[]): unknown {
  let cur: unknown = obj;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

/** Validate with a schema; throw a UserError naming every bad field. */
export function parseWith<T>(schema: z.ZodType<T>, input: unknown, source: string): T {
  const r = schema.safeParse(input);
  if (!r.success) throw new UserError(formatIssues(source, r.error, input, schema));
  return r.data;
}

/**
 * Deep merge of plain objects; arrays and scalars in `over` replace those in `base`, and so does
 * a `data` object of another kind (switchesKind).
 */
export function layer(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    const objects = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b);
    out[k] = objects && !switchesKind(k, b as Record<string, unknown>, v as Record<string, unknown>) ? layer(b as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

/**
 * A `data` object naming another kind replaces the one below instead of merging into it: the
 * kinds' fields differ (a profile's ShapesWorld nTrain means nothing to COCO). A data object
 * without `kind` is ShapesWorld, the schema's default.
 */
function switchesKind(key: string, base: Record<string, unknown>, over: Record<string, unknown>): boolean {
  return key === 'data' && over.kind !== undefined && over.kind !== (base.kind ?? 'shapes');
}

/**
 * `--set a.b.c=value` overrides: the value is parsed as JSON when it parses (numbers, arrays,
 * booleans), else taken as a string.
 */
export function parseOverride(expr: string): Record<string, unknown> {
  const eq = expr.indexOf('=');
  if (eq <= 0) throw new UserError(`--set ${expr}: expected key.path=value, e.g. --set sft.epochs=4`);
  const keys = expr.slice(0, eq).split('.');
  const raw = expr.slice(eq + 1);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = raw;
  }
  return keys.reduceRight<Record<string, unknown>>((acc, k, i) => (i === keys.length - 1 ? { [k]: value } : { [k]: acc }), {});
}

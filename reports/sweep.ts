/**
 * PCR knob sweeps: the optional file `sweep/sweep.json` of an output directory, written by
 * whatever sweeps PCR's knobs on the validation split (docs/defenses.md: defaults are chosen on the
 * validation split, never the test split). It is an array of SweepPoint; the report draws the
 * validation ASR and clean metric against each knob's values and marks the chosen point.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { parseWith } from '../harness/config/schema.js';
import { readOptionalJson } from './optionalJson.js';

export interface SweepPoint {
  /** The knob varied, e.g. "lambdaCv" or "ops". */
  knob: string;
  /** Its value at this point; strings are drawn as categories in file order. */
  value: number | string;
  /** The defense's full parameters at this point. */
  params: Record<string, unknown>;
  /** "caption" or "vqa". */
  task: string;
  /** Validation ASR as a fraction in [0, 1], as in RunRecord.metrics.ASR; NaN (null in JSON) if unknown. */
  valAsr: number;
  /** Validation clean metric (CIDEr-D, VQA-acc) on its own scale; NaN (null in JSON) if unknown. */
  valClean: number;
  /** Whether this value was kept as the default. */
  chosen: boolean;
  /** On the chosen point: the clean-metric floor (fraction of no defense's) it met. */
  floor?: number;
}

const pointSchema = z
  .object({
    knob: z.string().min(1),
    value: z.union([z.number(), z.string()]),
    params: z.record(z.string(), z.unknown()),
    task: z.string().min(1),
    // JSON writes NaN (e.g. an ASR without eligible samples) as null: read it back as NaN.
    valAsr: z.number().min(0).max(1).nullable().transform((v) => v ?? NaN),
    valClean: z.number().nullable().transform((v) => v ?? NaN),
    chosen: z.boolean(),
    floor: z.number().min(0).max(1).optional(),
  })
  .strict();

export const SWEEP_FILE = join('sweep', 'sweep.json');

export function parseSweep(json: unknown, source: string): SweepPoint[] {
  return parseWith(z.array(pointSchema), json, source) as SweepPoint[];
}

/** The sweep of an output directory; undefined when it has none. Bad files stop with their name. */
export function readSweep(outDir: string): SweepPoint[] | undefined {
  return readOptionalJson(outDir, SWEEP_FILE, parseSweep);
}

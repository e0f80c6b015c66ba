/**
 * Attack calibration: the optional file `calibration/calibration.json` of an output directory,
 * written by `mbb calibrate` (harness/exec/calibrate.ts). One row per task × model × attack × rung
 * of the poisoning-rate ladder (and of the stronger settings climbed above its top rate), judged on the validation split; the report shows it as a table
 * with the chosen rung of each attack, or says that the attack reached none.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { parseWith } from '../harness/config/schema.js';
import { readOptionalJson } from './optionalJson.js';

export interface CalibrationRow {
  task: string;
  model: string;
  /** The attack's label in the calibrated config. */
  attack: string;
  rate: number;
  /** A stronger setting than the attack's own, climbed above the top rate (`size=4`), or ''. */
  strength: string;
  /** Seeds with a result at this rung. */
  n: number;
  /** Undefended validation ASR (%) over seeds: mean and 95% t-interval (lo NaN for n < 2). */
  valAsr: number;
  valAsrLo: number;
  valAsrHi: number;
  /** Validation clean metric (mean over seeds) and its ratio to the clean model's. */
  valClean: number;
  cleanRatio: number;
  meetsAsr: boolean;
  meetsClean: boolean;
  /** 'chosen': the smallest rung meeting both; 'best': the attack reached none, this rung came closest. */
  verdict: '' | 'chosen' | 'best';
}

const num = z.number().nullable().transform((v) => v ?? NaN);
const rowSchema = z
  .object({
    task: z.string().min(1),
    model: z.string().min(1),
    attack: z.string().min(1),
    rate: z.number().min(0).max(1),
    // Absent in files written before attacks climbed their strength.
    strength: z.string().default(''),
    n: z.number().int().min(0),
    valAsr: num,
    valAsrLo: num,
    valAsrHi: num,
    valClean: num,
    cleanRatio: num,
    meetsAsr: z.boolean(),
    meetsClean: z.boolean(),
    verdict: z.enum(['', 'chosen', 'best']),
  })
  .strict();

export const CALIBRATION_FILE = join('calibration', 'calibration.json');

export function parseCalibration(json: unknown, source: string): CalibrationRow[] {
  return parseWith(z.array(rowSchema), json, source) as CalibrationRow[];
}

/** The calibration of an output directory; undefined when it has none. Bad files stop with their name. */
export function readCalibration(outDir: string): CalibrationRow[] | undefined {
  return readOptionalJson(outDir, CALIBRATION_FILE, parseCalibration);
}

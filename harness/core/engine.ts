/**
 * The only module that touches TF.js backends and kernel registration.
 *
 * Backend choice, best first: `tensorflow` (libtensorflow through @tensorflow/tfjs-node-gpu or
 * @tensorflow/tfjs-node, optional dependencies that only load where their native library was
 * installed), `wasm` (@tensorflow/tfjs-backend-wasm, single-threaded in Node), then `cpu`.
 * On wasm we patch the kernels our models need (see registerWasmFixes).
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
// The union package registers every gradient (tfjs-core's node bundle registers none).
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmFixes, type WasmFix } from './wasmKernels.js';

export { tf };
export type BackendName = 'auto' | 'tensorflow' | 'wasm' | 'cpu';
export interface EngineInfo {
  backend: string;
  /** Which engine fixes are active, for the run record. */
  fixes: string[];
  tfjsVersion: string;
}

let current: EngineInfo | undefined;

/**
 * Whether a tfjs-node package has its native binding (lib/napi-v<N>/tfjs_binding.node). Checked
 * before importing: an offline install leaves the package without it, and importing such a
 * package registers its kernels before failing, which floods stderr with warnings.
 */
function hasBinding(pkg: string): boolean {
  try {
    const root = dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
    return existsSync(join(root, 'lib')) && readdirSync(join(root, 'lib')).some((d) => existsSync(join(root, 'lib', d, 'tfjs_binding.node')));
  } catch {
    return false; // not installed
  }
}

async function tryTensorflow(): Promise<boolean> {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    if (!hasBinding(pkg)) continue;
    try {
      await import(pkg);
      if (await tf.setBackend('tensorflow')) return true;
    } catch {
      // Not installed, or installed without its native library (offline install): next.
    }
  }
  return false;
}

/**
 * Select and initialise the backend. Idempotent: the first call decides.
 * `fixes` selects the wasm kernel fixes (default: all; the benchmark's baseline passes a subset).
 */
export async function initEngine(
  opts: { backend?: BackendName; fixes?: readonly WasmFix[]; quiet?: boolean } = {},
): Promise<EngineInfo> {
  if (current) return current;
  const want = opts.backend ?? ((process.env.MBB_BACKEND as BackendName | undefined) || 'auto');
  let chosen: string | undefined;
  if (want === 'tensorflow' || want === 'auto') {
    if (await tryTensorflow()) chosen = 'tensorflow';
    else if (want === 'tensorflow') {
      throw new Error(
        'backend "tensorflow" requested but neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node loads here; install one (it downloads libtensorflow) or use --backend wasm',
      );
    }
  }
  if (!chosen && (want === 'wasm' || want === 'auto')) {
    if (await tf.setBackend('wasm')) chosen = 'wasm';
  }
  if (!chosen) {
    if (want !== 'cpu' && want !== 'auto' && want !== 'wasm') {
      throw new Error(`unknown backend "${want}": use auto, tensorflow, wasm or cpu`);
    }
    await tf.setBackend('cpu');
    chosen = 'cpu';
  }
  await tf.ready();
  const fixes = chosen === 'wasm' ? registerWasmFixes(opts.fixes) : [];
  current = { backend: chosen, fixes, tfjsVersion: tf.version.tfjs };
  if (!opts.quiet) {
    process.stderr.write(`[engine] backend=${chosen}${fixes.length ? ` fixes=${fixes.join(',')}` : ''}\n`);
  }
  return current;
}

export function engineInfo(): EngineInfo {
  if (!current) throw new Error('engine not initialised: call initEngine() first');
  return current;
}

/**
 * `npm run bench` (tinybench): what the CPU engine achieves, in child processes (kernels are
 * registered once per process, and a fresh process keeps one workload from warming another).
 *   kernels: the reference SFT step of issue 8 (the design's reference size: batch 32, 64 visual + 12 text
 *            tokens, d = 64, 4 layers) on stock wasm vs each engine fix, cumulatively;
 *   models:  per model family and task at the default profile's size: SFT step, PCR step (and
 *            its ratio to SFT, with every sample's view and with viewFraction 0.5), greedy decoding, achieved matmul GFLOP/s of the SFT step against
 *            the raw 2D and batched matmul GFLOP/s of the same backend, tensors leaked per step;
 *   loading: image loading throughput of the real-dataset loaders, with sharp and with the pure-JS decoders.
 * Writes reports/out/bench/bench.json and prints tables. `npm run bench -- kernels` runs one suite.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { engineInfo, initEngine, tf } from '../harness/core/engine.js';
import type { WasmFix } from '../harness/core/wasmKernels.js';
import { MODELS } from '../models/registry.js';
import { matmulFlops, timeByKernel } from './bench/profile.js';
import { benchConfig, decodeAll, makeTrainStep, makeWorkload, pcrHook } from './bench/steps.js';

const VARIANTS: Record<string, { fixes: WasmFix[]; note: string }> = {
  'wasm-stock': { fixes: ['unsorted-segment-sum'], note: 'stock kernels plus the missing UnsortedSegmentSum (training cannot run without it)' },
  'wasm-transpose': { fixes: ['unsorted-segment-sum', 'explicit-transpose-matmul'], note: 'transposed matmuls routed through an explicit transpose' },
  'wasm-native': {
    fixes: ['unsorted-segment-sum', 'explicit-transpose-matmul', 'native-matmul', 'native-sum'],
    note: 'products and leading-axis sums on the native addon (when built)',
  },
  'wasm-fused': {
    fixes: ['unsorted-segment-sum', 'explicit-transpose-matmul', 'native-matmul', 'native-sum', 'alias-copies', 'native-gelu', 'native-layernorm', 'native-softmax', 'native-adam', 'native-dense', 'native-attention', 'native-gather', 'leading-tile'],
    note: 'all engine fixes: also shared copies, fused GELU, layer norm, softmax and Adam, whole dense and attention layers, row gathers on the addon and leading-axis tiles as block copies',
  },
};
const TASKS = ['caption', 'vqa'] as const;
/** Rounds of the fastest variant against PyTorch (the median round of each is reported). */
const TORCH_ROUNDS = 5;
/** Untimed training steps before timing one (see timeMs); torch_step.py takes as many. */
const STEP_WARMUP = 20;

/**
 * Median ms of a function over tinybench iterations, after `warmup` untimed ones. The median,
 * not the mean: on a shared virtual machine single steps swing by a third. The warm-up: a
 * process's first ~15 training steps run 20-50% slower than its steady state (the engine's
 * code warming up, the heap growing), which is what a run of thousands of steps sees.
 */
async function timeMs(name: string, fn: () => unknown, iterations: number, warmup = 2): Promise<number> {
  const bench = new Bench({ iterations, time: 0, warmupIterations: warmup });
  bench.add(name, fn);
  await bench.run();
  const r = bench.tasks[0].result;
  if (r.state !== 'completed') throw new Error(`bench: ${name} ${r.state}`);
  return r.latency.p50;
}

/** GFLOP/s of one matmul shape ([b, m, k] × [b, k, n]; b = 0 for a plain 2D matmul). */
async function matmulGflops(b: number, m: number, k: number, n: number): Promise<number> {
  const x = b ? tf.randomNormal([b, m, k]) : tf.randomNormal([m, k]);
  const y = b ? tf.randomNormal([b, k, n]) : tf.randomNormal([k, n]);
  // Not inside tf.tidy: tidy walks every element of a returned TypedArray looking for tensors.
  const ms = await timeMs('matmul', () => {
    const z = tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D);
    z.dataSync();
    z.dispose();
  }, 20);
  tf.dispose([x, y]);
  return (2 * Math.max(b, 1) * m * k * n) / (ms * 1e6);
}

async function kernelsSuite(variant: string) {
  const v = VARIANTS[variant];
  await initEngine({ backend: 'wasm', fixes: v.fixes, quiet: true });
  // The reference step: no token merge (64 visual tokens), VQA-length text (12), one encoder
  // layer: the step torch_step.py mirrors, kept fixed as the profiles' sizes move.
  const exp = benchConfig('vqa', { model: { merge: 1, encoderLayers: 1 } });
  const w = makeWorkload('llava', 'vqa', exp, 1);
  const { step, dispose } = makeTrainStep(w);
  step();
  const before = tf.memory().numTensors;
  const stepMs = await timeMs('sft-step', step, variant === 'wasm-stock' ? 10 : 30, variant === 'wasm-stock' ? 2 : STEP_WARMUP);
  const leaked = tf.memory().numTensors - before;
  dispose();
  const batch = exp.sft.batchSize;
  return { variant, note: v.note, fixesActive: engineInfo().fixes, params: w.model.params.count, vocab: w.tok.size, batch, stepMs, samplesPerSec: (batch * 1000) / stepMs, tensorsLeaked: leaked };
}

async function modelSuite(family: string, task: (typeof TASKS)[number]) {
  await initEngine({ backend: 'wasm', quiet: true });
  const exp = benchConfig(task, { models: [family] });
  const w = makeWorkload(family, task, exp);
  const batch = exp.sft.batchSize;
  // Decoding first, on the untrained model: every row runs to the maximum length, a fixed token
  // count. After the training steps below the model would stop early on some rows, and the
  // figure would measure what those steps taught it.
  const decodeMs = await timeMs('decode', () => decodeAll(w), 5);
  // The same decoding by repeated full forward passes (no cache): the cache's speed-up, one run.
  const uncachedMs = await timeMs('decode-uncached', () => decodeAll(w, true), 3);
  const plain = decodeAll(w, true);
  const same = decodeAll(w).every((c, i) => c === plain[i]);
  const sft = makeTrainStep(w);
  sft.step();
  const before = tf.memory().numTensors;
  const sftMs = await timeMs('sft', sft.step, 10, STEP_WARMUP);
  const leaked = tf.memory().numTensors - before;
  const profile = await tf.profile(() => void sft.step());
  const flops = matmulFlops(profile.kernels);
  sft.dispose();
  // The step the default profile's runs take: the pre-trained tower frozen.
  const frozen = makeTrainStep(w, undefined, { frozenTower: true });
  frozen.step();
  const frozenMs = await timeMs('sft-frozen-tower', frozen.step, 10, STEP_WARMUP);
  frozen.dispose();
  // Both view fractions explicitly, whatever PCR's default is (defenses/pcr.ts PCR_DEFAULTS).
  const pcr = makeTrainStep(w, pcrHook(w, { viewFraction: 1 }));
  pcr.step();
  const pcrMs = await timeMs('pcr', pcr.step, 10, STEP_WARMUP);
  pcr.dispose();
  const pcrHalf = makeTrainStep(w, pcrHook(w, { viewFraction: 0.5 }));
  pcrHalf.step();
  const pcrHalfMs = await timeMs('pcr-half', pcrHalf.step, 10, STEP_WARMUP);
  pcrHalf.dispose();
  const d = exp.model.width;
  return {
    family,
    task,
    params: w.model.params.count,
    batch,
    sftSamplesPerSec: (batch * 1000) / sftMs,
    frozenTowerSpeedup: sftMs / frozenMs,
    pcrSamplesPerSec: (batch * 1000) / pcrMs,
    pcrRatio: pcrMs / sftMs,
    pcrHalfViewRatio: pcrHalfMs / sftMs,
    decodeSamplesPerSec: (w.test.length * 1000) / decodeMs,
    decodeUncachedSamplesPerSec: (w.test.length * 1000) / uncachedMs,
    decodeSameTokens: same,
    stepGflop: flops / 1e9,
    achievedGflops: flops / (sftMs * 1e6),
    raw2dGflops: await matmulGflops(0, 256, 256, 256),
    rawAttentionGflops: await matmulGflops(batch * exp.model.heads, 80, d / exp.model.heads, 80),
    topKernels: timeByKernel(profile.kernels).slice(0, 5).map((k) => `${k.name} ${(100 * k.share).toFixed(0)}%`),
    tensorsLeaked: leaked,
  };
}

const run = (args: string[]) => {
  const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out);
};
const fmt = (x: number, d = 1) => x.toFixed(d);

/** scripts/bench/torch_step.py's result, or undefined without a python3 that imports torch. */
function torchStep(batch: number, text: number, vocab: number): { torch: string; stepMs: number; samplesPerSec: number; params: number } | undefined {
  const script = fileURLToPath(new URL('./bench/torch_step.py', import.meta.url));
  for (const python of ['/usr/bin/python3', 'python3']) {
    try {
      process.stderr.write(`[bench] pytorch (${python}) …\n`);
      const args = [script, '--batch', String(batch), '--text', String(text), '--vocab', String(vocab), '--warmup', String(STEP_WARMUP)];
      // One BLAS thread, as torch's own: the comparison is per core.
      const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' };
      return JSON.parse(execFileSync(python, args, { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'ignore'] }));
    } catch {
      // no such python, or no torch in it: try the next
    }
  }
  process.stderr.write('[bench] pytorch: not installed (apt-get install python3-torch libopenblas0-pthread to compare)\n');
  return undefined;
}

const child = process.argv.indexOf('--child');
if (child >= 0) {
  const [suite, a, b] = process.argv.slice(child + 1);
  const result = suite === 'kernels' ? await kernelsSuite(a) : await modelSuite(a, b as (typeof TASKS)[number]);
  process.stdout.write(JSON.stringify(result));
} else {
  const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const want = (s: string) => only.length === 0 || only.includes(s);
  const report: Record<string, unknown> = { date: new Date().toISOString(), node: process.version };
  if (want('kernels')) {
    const rows = Object.keys(VARIANTS).map((v) => (process.stderr.write(`[bench] kernels ${v} …\n`), run(['kernels', v])));
    report.kernels = rows;
    console.log('Reference SFT step (llava, batch 32, 64 visual + 12 text tokens, d = 64, 4 layers), median step:');
    // PyTorch + OpenBLAS on the same step, when Debian's python3-torch is installed (a
    // comparison only: never a dependency of the project), in rounds alternating with the
    // fastest variant, so that both see the same phases of a shared machine.
    const fused = rows[rows.length - 1];
    const torch = torchStep(rows[0].batch, 12, rows[0].vocab);
    if (torch) {
      const rounds = [{ fused: fused.stepMs, torch: torch.stepMs }];
      for (let r = 1; r < TORCH_ROUNDS; r++) rounds.push({ fused: run(['kernels', fused.variant]).stepMs, torch: torchStep(rows[0].batch, 12, rows[0].vocab)!.stepMs });
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      fused.stepMs = median(rounds.map((r) => r.fused));
      fused.samplesPerSec = (fused.batch * 1000) / fused.stepMs;
      const torchMs = median(rounds.map((r) => r.torch));
      rows.push({ variant: `pytorch ${torch.torch} (1 thread)`, stepMs: torchMs, samplesPerSec: (rows[0].batch * 1000) / torchMs, params: torch.params, tensorsLeaked: '-' });
      report.torchRounds = rounds;
      console.log(`${fused.variant} ÷ pytorch, step time per round: ${rounds.map((r) => fmt(r.torch / r.fused, 2)).join(', ')} (median step of each over ${TORCH_ROUNDS} rounds below)`);
    }
    console.table(rows.map((r) => ({ variant: r.variant, 'step ms': fmt(r.stepMs), 'samples/s': fmt(r.samplesPerSec), speedup: fmt(r.samplesPerSec / rows[0].samplesPerSec, 2), leaked: r.tensorsLeaked })));
  }
  if (want('models')) {
    const rows = Object.keys(MODELS).flatMap((m) => TASKS.map((t) => (process.stderr.write(`[bench] model ${m} ${t} …\n`), run(['models', m, t]))));
    report.models = rows;
    console.log('Per model, default-profile size, all engine fixes:');
    console.table(
      rows.map((r) => ({
        model: r.family,
        task: r.task,
        params: r.params,
        'SFT samples/s': fmt(r.sftSamplesPerSec),
        'frozen tower ×': fmt(r.frozenTowerSpeedup, 2),
        'PCR samples/s': fmt(r.pcrSamplesPerSec),
        'PCR/SFT, all views': fmt(r.pcrRatio, 2),
        'PCR/SFT, half views': fmt(r.pcrHalfViewRatio, 2),
        'decode samples/s': fmt(r.decodeSamplesPerSec),
        'decode ×uncached': fmt(r.decodeSamplesPerSec / r.decodeUncachedSamplesPerSec, 2),
        'same tokens': r.decodeSameTokens,
        'GFLOP/s (SFT)': fmt(r.achievedGflops, 2),
        'raw 2D GFLOP/s': fmt(r.raw2dGflops, 2),
        'raw batched GFLOP/s': fmt(r.rawAttentionGflops, 2),
        leaked: r.tensorsLeaked,
      })),
    );
    for (const r of rows) console.log(`  ${r.family}/${r.task} top kernels: ${r.topKernels.join(', ')}`);
  }
  const loader = fileURLToPath(new URL('./benchLoading.ts', import.meta.url));
  if (want('loading') && existsSync(loader)) {
    const { benchLoading } = await import(loader);
    const r = await benchLoading();
    report.loading = r;
    console.log(`Loading ${r.images} JPEG ${r.sourceSize} → ${r.imageSize}×${r.imageSize} (crop+resize ${fmt(r.resizeMsPerImage, 2)} ms/image, either decoder):`);
    console.table(
      r.rows.map((row: { decoder: string; imagesPerSec: number; msPerImage: number; decodeMsPerImage: number; speedup: number }) => ({
        decoder: row.decoder,
        'images/s': fmt(row.imagesPerSec),
        'ms/image': fmt(row.msPerImage, 2),
        'decode ms': fmt(row.decodeMsPerImage, 2),
        speedup: fmt(row.speedup, 2),
      })),
    );
  }
  mkdirSync('reports/out/bench', { recursive: true });
  writeFileSync('reports/out/bench/bench.json', JSON.stringify(report, null, 1));
  process.stderr.write('[bench] wrote reports/out/bench/bench.json\n');
}

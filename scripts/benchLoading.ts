/**
 * Loading throughput of real datasets, per decoder (sharp and the pure-JS fallback) in the same
 * run: a COCO-style fixture of a few hundred 640×480 JPEGs (COCO's typical size) in a temp dir,
 * loaded through the Karpathy-split loader (JSON, read, decode, centre crop, area resize to the
 * model's 32×32), timed with tinybench. Also times the decode of one image per decoder and the
 * crop+resize (the same code for both), to show where the time goes.
 *
 * `node --import tsx scripts/benchLoading.ts` prints one line per decoder.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { planKarpathyCaptions } from '../harness/data/coco.js';
import { decodePlan } from '../harness/data/datasetFiles.js';
import { DECODER_NAMES, decoderNamed, type DecoderName } from '../harness/data/decoder.js';
import { writeCocoKarpathyFixture } from '../harness/data/fixtures.js';
import { decodeImage, toModelImage } from '../harness/data/images.js';

export interface LoadingBenchRow {
  decoder: DecoderName;
  /** Images loaded (read + decoded + resized, with their captions) per second, one process. */
  imagesPerSec: number;
  msPerImage: number;
  decodeMsPerImage: number;
  /** This decoder's images/s over the pure-JS decoder's. */
  speedup: number;
}

export interface LoadingBenchResult {
  images: number;
  sourceSize: string;
  imageSize: number;
  resizeMsPerImage: number;
  iterations: number;
  rows: LoadingBenchRow[];
}

/** Scene side 480 in a 4:3 photo: 640×480. */
const SOURCE_HEIGHT = 480;

function meanMs(bench: Bench, name: string): number {
  const task = bench.tasks.find((t) => t.name === name)!;
  const result = task.result;
  if (result.state !== 'completed') throw new Error(`benchLoading: ${name} ${result.state}`);
  return result.latency.mean;
}

export async function benchLoading(opts: { images?: number; imageSize?: number; iterations?: number } = {}): Promise<LoadingBenchResult> {
  const images = opts.images ?? 300;
  const imageSize = opts.imageSize ?? 32;
  const iterations = opts.iterations ?? 2;
  const root = mkdtempSync(join(tmpdir(), 'mbb-bench-loading-'));
  try {
    const nVal = Math.round(images / 10);
    const fx = writeCocoKarpathyFixture(root, { nTrain: images - 2 * nVal, nVal, nTest: nVal, size: SOURCE_HEIGHT, pngEvery: 0, quality: 90 });
    const options = { name: 'coco', root, karpathyFile: 'dataset_coco.json', imagesDir: '.', limit: 0, onBadImage: 'fail' as const, imageSize };
    const one = readFileSync(fx.images.train[0]);
    const decoded = decodeImage(one);
    const loaded = new Map<DecoderName, number>();
    // A whole-dataset load is long enough to need no warm-up; the one-image timings get one.
    const load = new Bench({ iterations, time: 0, warmupIterations: 0 });
    const parts = new Bench({ iterations: 20, time: 0, warmupIterations: 3 }).add('resize', () => void toModelImage(decoded, imageSize));
    for (const name of DECODER_NAMES) {
      const decoder = decoderNamed(name);
      load.add(name, async () => {
        const { splits } = await decodePlan(planKarpathyCaptions(options, 1), imageSize, 'fail', decoder);
        loaded.set(name, splits.train.length + splits.val.length + splits.test.length);
      });
      parts.add(name, async () => void (await decoder.decode(one)));
    }
    await load.run();
    await parts.run();
    for (const [name, n] of loaded) if (n !== images) throw new Error(`benchLoading: ${name} loaded ${n} of ${images} images`);
    const msPerImage = (name: DecoderName) => meanMs(load, name) / images;
    return {
      images,
      sourceSize: `${decoded.width}×${decoded.height}`,
      imageSize,
      resizeMsPerImage: meanMs(parts, 'resize'),
      iterations,
      rows: DECODER_NAMES.map((decoder) => ({
        decoder,
        imagesPerSec: 1000 / msPerImage(decoder),
        msPerImage: msPerImage(decoder),
        decodeMsPerImage: meanMs(parts, decoder),
        speedup: msPerImage('js') / msPerImage(decoder),
      })),
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await benchLoading();
  for (const row of r.rows) {
    console.log(
      `[benchLoading] ${row.decoder}: ${r.images} JPEG ${r.sourceSize} → ${r.imageSize}×${r.imageSize}: ${row.imagesPerSec.toFixed(1)} images/s, ×${row.speedup.toFixed(2)} ` +
        `(${row.msPerImage.toFixed(2)} ms/image: decode ${row.decodeMsPerImage.toFixed(2)} ms, crop+resize ${r.resizeMsPerImage.toFixed(2)} ms)`,
    );
  }
}

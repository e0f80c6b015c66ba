/**
 * Loading throughput of real datasets: a COCO-style fixture of a few hundred 640×480 JPEGs
 * (COCO's typical size) in a temp dir, loaded through the Karpathy-split loader (JSON, read,
 * decode, centre crop, area resize to the model's 32×32), timed with tinybench. Also times the
 * decode and the crop+resize of one image, to show where the time goes.
 *
 * `node --import tsx scripts/benchLoading.ts` prints one line.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { planKarpathyCaptions } from '../harness/data/coco.js';
import { decodePlan } from '../harness/data/datasetFiles.js';
import { writeCocoKarpathyFixture } from '../harness/data/fixtures.js';
import { decodeImage, toModelImage } from '../harness/data/images.js';

export interface LoadingBenchResult {
  /** Images loaded (read + decoded + resized, with their captions) per second, one core. */
  imagesPerSec: number;
  images: number;
  sourceSize: string;
  imageSize: number;
  msPerImage: number;
  decodeMsPerImage: number;
  resizeMsPerImage: number;
  iterations: number;
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
    let loaded = 0;
    // A whole-dataset load is long enough to need no warm-up; the one-image timings get one.
    const load = new Bench({ iterations, time: 0, warmupIterations: 0 }).add('load', () => {
      const { splits } = decodePlan(planKarpathyCaptions(options, 1), imageSize, 'fail');
      loaded = splits.train.length + splits.val.length + splits.test.length;
    });
    const parts = new Bench({ iterations: 20, time: 0, warmupIterations: 3 })
      .add('decode', () => void decodeImage(one))
      .add('resize', () => void toModelImage(decoded, imageSize));
    await load.run();
    await parts.run();
    if (loaded !== images) throw new Error(`benchLoading: loaded ${loaded} of ${images} images`);
    const msPerImage = meanMs(load, 'load') / images;
    return {
      imagesPerSec: 1000 / msPerImage,
      images,
      sourceSize: `${decoded.width}×${decoded.height}`,
      imageSize,
      msPerImage,
      decodeMsPerImage: meanMs(parts, 'decode'),
      resizeMsPerImage: meanMs(parts, 'resize'),
      iterations,
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await benchLoading();
  console.log(
    `[benchLoading] ${r.images} JPEG ${r.sourceSize} → ${r.imageSize}×${r.imageSize}: ${r.imagesPerSec.toFixed(1)} images/s ` +
      `(${r.msPerImage.toFixed(2)} ms/image: decode ${r.decodeMsPerImage.toFixed(2)} ms, crop+resize ${r.resizeMsPerImage.toFixed(2)} ms)`,
  );
}

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseWith } from '../config/schema.js';
import { dataSchema, type DataConfig } from './config.js';
import { UserError } from '../core/errors.js';
import { Tokenizer, UNK } from '../core/tokenizer.js';
import { writeCocoKarpathyFixture, writeCocoOfficialFixture, writeFlickr30kFixture, type Fixture, type FixtureOptions } from './fixtures.js';
import { imageDecoder } from './decoder.js';
import { toModelImage } from './images.js';
import { checkDataset, loadSplits } from './load.js';
import type { DatasetSplits } from '../core/types.js';

const tmp = (label: string) => mkdtempSync(join(tmpdir(), `coco-test-${label}-`));
const data = (fx: Fixture, over: Record<string, unknown> = {}): DataConfig => parseWith(dataSchema, { ...fx.data, ...over }, 'test data');
const ids = (ds: DatasetSplits) => ({ train: ds.train.map((s) => s.id), val: ds.val.map((s) => s.id), test: ds.test.map((s) => s.id) });
const small: FixtureOptions = { nTrain: 8, nVal: 4, nTest: 4 };

/** The UserError a call throws (fails the test if it throws nothing or something else). */
async function userError(f: () => unknown): Promise<string> {
  try {
    await f();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    const msg = (e as Error).message;
    expect(msg).not.toContain('\n'); // the CLI prints it as one line
    return msg;
  }
  throw new Error('expected a UserError');
}

function editJson(path: string, edit: (json: any) => void): void {
  const json = JSON.parse(readFileSync(path, 'utf8'));
  edit(json);
  writeFileSync(path, JSON.stringify(json));
}

describe('COCO Karpathy split', () => {
  const fx = writeCocoKarpathyFixture(tmp('karpathy'));

  it('loads train (with restval), val and test with every caption and model-sized images', async () => {
    const ds = await loadSplits(data(fx), 'caption', 1);
    expect([ds.name, ds.task]).toEqual(['coco', 'caption']);
    expect([ds.train.length, ds.val.length, ds.test.length]).toEqual([24, 6, 6]); // 6 of the 24 are restval
    expect(ds.train.map((s) => s.imageId)).toEqual(fx.images.train.map((p) => basename(p, '.jpg')));
    const json = JSON.parse(readFileSync(join(fx.root, 'dataset_coco.json'), 'utf8'));
    expect(ds.test[0].refs).toEqual(json.images.find((im: any) => im.filename === `${ds.test[0].imageId}.jpg`).sentences.map((s: any) => s.raw));
    expect(ds.test[0].refs).toHaveLength(5);
    for (const s of [...ds.train, ...ds.val, ...ds.test]) {
      expect(s.prompt).toBe('describe the image');
      expect([s.image.height, s.image.width, s.image.data.length]).toEqual([32, 32, 32 * 32 * 3]);
    }
    // The pixels are the file's as this process decodes them, centre-cropped and area-averaged (the 4th file is PNG bytes).
    for (const i of [0, 3]) expect(ds.train[i].image).toEqual(toModelImage(await imageDecoder().decode(readFileSync(fx.images.train[i])), 32));
  });

  it('imageSize sets the model resolution', async () => {
    const ds = await loadSplits(data(fx, { imageSize: 16 }), 'caption', 1);
    expect([ds.val[0].image.height, ds.val[0].image.width]).toEqual([16, 16]);
  });

  it('limit keeps a seeded subset of each split, in file order', async () => {
    const a = ids(await loadSplits(data(fx, { limit: 5 }), 'caption', 1));
    expect([a.train.length, a.val.length, a.test.length]).toEqual([5, 5, 5]);
    expect(ids(await loadSplits(data(fx, { limit: 5 }), 'caption', 1))).toEqual(a);
    const b = ids(await loadSplits(data(fx, { limit: 5 }), 'caption', 2));
    expect(b.train).not.toEqual(a.train);
    const all = ids(await loadSplits(data(fx), 'caption', 1)).train;
    expect(a.train.map((id) => all.indexOf(id))).toEqual([...a.train.map((id) => all.indexOf(id))].sort((x, y) => x - y));
  });

  it('refuses the VQA task', async () => {
    expect(await userError(() => loadSplits(data(fx), 'vqa', 1))).toMatch(/data\.kind: "coco" is a caption dataset and cannot serve task "vqa"/);
  });
});

describe('COCO official annotations', () => {
  const fx = writeCocoOfficialFixture(tmp('official'));

  it('trains on train2014 and splits val2014 into val and test halves by the seed', async () => {
    const ds = await loadSplits(data(fx), 'caption', 1);
    expect(ds.train.map((s) => s.imageId)).toEqual(Array.from({ length: 24 }, (_, i) => String(i + 1)));
    const valTest = [...ds.val, ...ds.test].map((s) => Number(s.imageId)).sort((a, b) => a - b);
    expect(valTest).toEqual(Array.from({ length: 12 }, (_, i) => i + 25)); // every val2014 image, once
    expect([ds.val.length, ds.test.length]).toEqual([6, 6]);
    const other = await loadSplits(data(fx), 'caption', 3);
    expect(ids(other).val).not.toEqual(ids(ds).val);
    const json = JSON.parse(readFileSync(join(fx.root, 'annotations', 'captions_train2014.json'), 'utf8'));
    expect(ds.train[2].refs).toEqual(json.annotations.filter((a: any) => a.image_id === 3).map((a: any) => a.caption));
  });

  it('collapses whitespace in captions and drops images without captions', async () => {
    const fx2 = writeCocoOfficialFixture(tmp('official-ws'), small);
    editJson(join(fx2.root, 'annotations', 'captions_train2014.json'), (j) => {
      j.annotations[0].caption = '  a red\ncircle  ';
      j.annotations = j.annotations.filter((a: any) => a.image_id !== 2);
    });
    const ds = await loadSplits(data(fx2), 'caption', 1);
    expect(ds.train[0].refs[0]).toBe('a red circle');
    expect(ds.train.map((s) => s.imageId)).not.toContain('2');
    expect(ds.train).toHaveLength(7);
  });
});

describe('Flickr30k Karpathy split', () => {
  it('loads images from flickr30k-images/ by filename', async () => {
    const fx = writeFlickr30kFixture(tmp('flickr'), small);
    const ds = await loadSplits(data(fx), 'caption', 1);
    expect(ds.name).toBe('flickr30k');
    expect([ds.train.length, ds.val.length, ds.test.length]).toEqual([8, 4, 4]);
    expect(ds.val[0].imageId).toBe(basename(fx.images.val[0], '.jpg'));
  });
});

describe('caption vocabulary', () => {
  it('keeps training words seen ≥ minCount times, maps the rest to UNK, always keeps the target', async () => {
    const ds = await loadSplits(data(writeCocoKarpathyFixture(tmp('vocab'))), 'caption', 1);
    const texts = ds.train.flatMap((s) => [s.prompt, ...s.refs]);
    const counts = new Map<string, number>();
    for (const t of texts) for (const w of t.toLowerCase().replace(/[^a-z0-9' ]+/g, ' ').split(/\s+/).filter(Boolean)) counts.set(w, (counts.get(w) ?? 0) + 1);
    const rare = [...counts].filter(([, c]) => c > 0 && c < 5).map(([w]) => w);
    const common = [...counts].filter(([, c]) => c >= 5).map(([w]) => w);
    expect(rare.length).toBeGreaterThan(0); // the fixture has rare words, so the test means something
    const base = Tokenizer.fromTexts(texts, 5, 16);
    const tok = base.bind(['a photo of the banana']);
    for (const w of rare) expect(tok.encode(w)).toEqual([UNK]);
    for (const w of common) expect(tok.encode(w)).not.toEqual([UNK]);
    expect(tok.encode('banana')).not.toEqual([UNK]); // in no caption, bound to a reserved slot as the attack target
    expect(tok.size).toBe(base.size);
    expect(base.size).toBe(4 + common.length + 16);
  });
});

describe('errors name the file and the fix', () => {
  it('missing root, root that is a file', async () => {
    expect(await userError(() => loadSplits(parseWith(dataSchema, { kind: 'coco', root: '/nonexistent/coco' }, 't'), 'caption', 1))).toMatch(
      /data\.root \/nonexistent\/coco: not found; point data\.root at the directory/,
    );
    const fx = writeCocoKarpathyFixture(tmp('rootfile'), small);
    const file = join(fx.root, 'dataset_coco.json');
    expect(await userError(() => loadSplits(data(fx, { root: file }), 'caption', 1))).toMatch(/not a directory/);
  });

  it('missing split or annotation file', async () => {
    const fx = writeCocoKarpathyFixture(tmp('nofile'), small);
    const msg = await userError(() => loadSplits(data(fx, { karpathyFile: 'splits/karpathy.json' }), 'caption', 1));
    expect(msg).toContain(join(fx.root, 'splits/karpathy.json'));
    expect(msg).toMatch(/not found; put a Karpathy split file .* there or set data\.karpathyFile/);
    const off = writeCocoOfficialFixture(tmp('noann'), small);
    rmSync(join(off.root, 'annotations', 'captions_val2014.json'));
    expect(await userError(() => loadSplits(data(off), 'caption', 1))).toMatch(/captions_val2014\.json: not found; .*data\.valAnnotations/);
  });

  it('malformed JSON, and a bad field with its JSON path', async () => {
    const fx = writeCocoOfficialFixture(tmp('badjson'), small);
    const ann = join(fx.root, 'annotations', 'captions_train2014.json');
    writeFileSync(ann, readFileSync(ann, 'utf8').slice(0, 200));
    expect(await userError(() => loadSplits(data(fx), 'caption', 1))).toMatch(new RegExp(`${ann}: not valid JSON \\(.*\\); re-download`));
    const fx2 = writeCocoOfficialFixture(tmp('badfield'), small);
    const ann2 = join(fx2.root, 'annotations', 'captions_train2014.json');
    editJson(ann2, (j) => (j.annotations[3].caption = 42));
    expect(await userError(() => loadSplits(data(fx2), 'caption', 1))).toBe(
      `${ann2}: annotations[3].caption: expected a string (got 42); expected COCO captions annotations {"images": [{"id", "file_name"}], "annotations": [{"image_id", "caption"}]}`,
    );
    editJson(ann2, (j) => delete j.images);
    expect(await userError(() => loadSplits(data(fx2), 'caption', 1))).toMatch(/captions_train2014\.json: images: expected an array \(got nothing\)/);
  });

  it('bad Karpathy fields: unknown split, missing raw, repeated filename', async () => {
    const fx = writeCocoKarpathyFixture(tmp('badsplit'), small);
    const file = join(fx.root, 'dataset_coco.json');
    editJson(file, (j) => (j.images[2].split = 'training'));
    expect(await userError(() => loadSplits(data(fx), 'caption', 1))).toMatch(/images\[2\]\.split: expected "train", "restval", "val" or "test" \(got "training"\)/);
    editJson(file, (j) => {
      j.images[2].split = 'train';
      j.images[1].sentences[4] = { tokens: ['a', 7] };
    });
    expect(await userError(() => loadSplits(data(fx), 'caption', 1))).toMatch(/images\[1\]\.sentences\[4\]\.tokens\[1\]: expected a string \(got 7\)/);
    editJson(file, (j) => {
      j.images[1].sentences[4] = { tokens: ['a', 'dog'] }; // tokens alone are accepted
      j.images[5].filename = j.images[0].filename;
    });
    expect(await userError(() => loadSplits(data(fx), 'caption', 1))).toMatch(/images\[5\]\.filename: names image "COCO_train2014_000000000001" again \(first at images\[0\]\)/);
  });

  it('an annotation of an image that is not in the file, or whose file does not exist', async () => {
    const fx = writeCocoOfficialFixture(tmp('noimage'), small);
    editJson(join(fx.root, 'annotations', 'captions_train2014.json'), (j) => (j.annotations[6].image_id = 999));
    expect(await userError(() => loadSplits(data(fx), 'caption', 1))).toMatch(/annotations\[6\]\.image_id: image 999 is not in "images"/);
    const fx2 = writeCocoKarpathyFixture(tmp('nofileimg'), small);
    rmSync(fx2.images.val[1]);
    expect(await userError(() => loadSplits(data(fx2), 'caption', 1))).toBe(
      `coco: 1 image file(s) not found: ${fx2.images.val[1]} (named by images[9].filename in ${join(fx2.root, 'dataset_coco.json')}); check data.root and data.imagesDir, or remove those entries`,
    );
    // Every missing image is counted, the first few named, before any image is decoded.
    for (const p of fx2.images.train) rmSync(p);
    expect(await userError(() => checkDataset(data(fx2), 'caption', 1))).toMatch(
      new RegExp(`^coco: ${fx2.images.train.length + 1} image file\\(s\\) not found: ${fx2.images.train[0]} .* and ${fx2.images.train.length - 2} more; check data.root and data.imagesDir`),
    );
  });

  it('an image that fails to decode: skipped with a one-line warning naming it, or fatal with onBadImage "fail"', async () => {
    const fx = writeCocoKarpathyFixture(tmp('corrupt'), small);
    writeFileSync(fx.images.train[2], 'not an image');
    writeFileSync(fx.images.test[0], readFileSync(fx.images.test[0]).subarray(0, 100)); // truncated JPEG
    const warnings: string[] = [];
    const ds = await loadSplits(data(fx), 'caption', 1, { warn: (l) => warnings.push(l) });
    expect([ds.train.length, ds.val.length, ds.test.length]).toEqual([7, 4, 3]);
    expect(ds.train.map((s) => s.imageId)).not.toContain(basename(fx.images.train[2], '.jpg'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/coco: skipped 2 image\(s\) that failed to decode/);
    expect(warnings[0]).toContain(`${fx.images.train[2]} (neither JPEG nor PNG`);
    expect(warnings[0]).toContain(`${fx.images.test[0]} (corrupt or truncated JPEG`);
    expect(warnings[0]).toMatch(/set data\.onBadImage to "fail"/);
    expect(await userError(() => loadSplits(data(fx, { onBadImage: 'fail' }), 'caption', 1))).toMatch(
      new RegExp(`^${fx.images.train[2]}: cannot decode image \\(neither JPEG nor PNG.*\\); replace the file, or set data\\.onBadImage to "skip"`),
    );
  });

  it('a split left empty', async () => {
    const fx = writeCocoKarpathyFixture(tmp('empty'), small);
    editJson(join(fx.root, 'dataset_coco.json'), (j) => (j.images = j.images.filter((im: any) => im.split !== 'test')));
    expect(await userError(() => loadSplits(data(fx), 'caption', 1))).toMatch(/data \(coco at .*\): the test split is empty; check the files of that split/);
  });
});

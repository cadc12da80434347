import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { datasets } from '../../../components/dataset/index.ts';
import { decodeRgb, fitImage, hasNativeDecoder } from '../../../components/dataset/image-decode.ts';
import type { ImageDataset } from '../../../runner/data/types.ts';
import { UserError } from '../../../runner/errors.ts';
import { rejectsAtKey } from '../../helpers/errors.ts';
import { tempDir, writeTree } from '../../helpers/files.ts';
import { imageDatasetFiles, jpegBytes, pngBytes, syntheticPixels } from './image-fixtures.ts';
import { makeTar, makeTarGz } from './tar-writer.ts';

const warnings: string[] = [];
const context = (dir: string) => ({ configDir: dir, warn: (m: string) => warnings.push(m) });

async function load(path: string, params: Record<string, unknown> = {}): Promise<ImageDataset> {
  const dataset = await datasets.build({ type: 'image_folder', path, image_size: [12, 16], ...params }, context(path));
  assert.is(dataset.kind, 'image');
  return dataset as ImageDataset;
}

async function rejects(promise: Promise<unknown>, pattern: RegExp): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, UserError, `expected a UserError, got ${String(error)}`);
    assert.match((error as Error).message, pattern);
    return (error as Error).message;
  }
  assert.unreachable('expected an error');
  return '';
}

test('a folder: classes sorted, labels by class, every image decoded once at the stored size', async () => {
  const dir = writeTree(tempDir(), imageDatasetFiles());
  const data = await load(dir);
  assert.equal(data.classes, ['cats', 'dogs']);
  assert.equal(data.imageShape, [12, 16, 3]);
  assert.equal([...data.train.labels], [0, 0, 0, 0, 1, 1, 1, 1]);
  assert.is(data.train.pixels.length, 8 * 12 * 16 * 3);
  assert.is(data.test.files.length, 8);
  assert.ok(data.train.files[0]!.endsWith(join('train', 'cats', '00.png')));
  // PNG is lossless: the stored bytes are the generated pixels.
  assert.equal([...data.train.pixels.subarray(0, 12 * 16 * 3)], [...syntheticPixels(12, 16, 0, 0)]);
  // JPEG is close to them.
  const jpegImage = data.train.pixels.subarray(12 * 16 * 3, 2 * 12 * 16 * 3);
  const expected = syntheticPixels(12, 16, 0, 1);
  const error = jpegImage.reduce((s, v, i) => s + Math.abs(v - expected[i]!), 0) / expected.length;
  assert.ok(error < 4, `mean JPEG error ${error}`);
});

test('a .tar and a .tar.gz (with one top folder) give exactly the folder dataset', async () => {
  const files = imageDatasetFiles();
  const dir = writeTree(tempDir(), files);
  const members = Object.entries(files).map(([name, data]) => ({ name: `pets/${name}`, data }));
  writeFileSync(join(dir, 'pets.tar'), makeTar(members.reverse()));
  writeFileSync(join(dir, 'pets.tgz'), makeTarGz(members));
  const fromFolder = await load(dir);
  for (const archive of ['pets.tar', 'pets.tgz']) {
    const fromArchive = await load(join(dir, archive));
    assert.equal(fromArchive.classes, fromFolder.classes);
    assert.equal([...fromArchive.train.labels], [...fromFolder.train.labels]);
    assert.ok(Buffer.from(fromArchive.train.pixels).equals(Buffer.from(fromFolder.train.pixels)), archive);
    assert.ok(Buffer.from(fromArchive.test.pixels).equals(Buffer.from(fromFolder.test.pixels)), archive);
    assert.match(fromArchive.train.files[0]!, `${archive}:pets/train/cats/00.png`);
  }
});

test('a folder holding the dataset folder works too; max_per_class and classes order apply', async () => {
  const dir = writeTree(tempDir(), imageDatasetFiles({ prefix: 'inner/' }));
  const data = await load(dir, { max_per_class: 2, classes: ['dogs', 'cats'] });
  assert.equal(data.classes, ['dogs', 'cats']);
  assert.equal([...data.train.labels], [1, 1, 0, 0]);
  assert.is(data.train.files.length, 4);
});

test('fit: crop keeps the aspect ratio and cuts the centre; stretch squeezes the whole image', () => {
  // A 4×8 image: left half black, right half white.
  const image = tf.tidy(() => tf.concat([tf.zeros([4, 4, 3], 'int32'), tf.fill([4, 4, 3], 255, 'int32')], 1)) as tf.Tensor3D;
  const crop = tf.tidy(() => fitImage(image, [2, 2], 'crop').arraySync());
  const stretch = tf.tidy(() => fitImage(image, [2, 2], 'stretch').arraySync());
  // crop: 4×8 → 2×4, centre 2×2 → columns at the black/white edge.
  assert.equal(
    crop.map((row) => row.map((p) => Math.round(p[0]!))),
    [
      [0, 255],
      [0, 255],
    ],
  );
  assert.equal(
    stretch.map((row) => row.map((p) => Math.round(p[0]!))),
    [
      [0, 255],
      [0, 255],
    ],
  );
  const wide = tf.tidy(() => fitImage(tf.fill([10, 40, 3], 9, 'int32') as tf.Tensor3D, [5, 5], 'crop').shape);
  assert.equal(wide, [5, 5, 3]);
  image.dispose();
});

test('the pure-JS decoders agree with the native ones (PNG exactly, JPEG closely)', () => {
  const pixels = syntheticPixels(9, 11, 1, 3);
  const png = decodeRgb(pngBytes(pixels, 11, 9), 'js');
  assert.equal(png.shape, [9, 11, 3]);
  assert.equal([...png.dataSync()], [...pixels]);
  const jpg = jpegBytes(pixels, 11, 9);
  const js = decodeRgb(jpg, 'js');
  if (hasNativeDecoder()) {
    const native = decodeRgb(jpg, 'native');
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(native, js))).dataSync()[0]!);
    assert.ok(diff <= 8, `native vs JS JPEG max difference ${diff}`);
    native.dispose();
    const nativePng = decodeRgb(pngBytes(pixels, 11, 9), 'native');
    assert.equal([...nativePng.dataSync()], [...pixels]);
    nativePng.dispose();
  }
  png.dispose();
  js.dispose();
});

test('decoder: js loads the same dataset (PNG bytes identical)', async () => {
  const dir = writeTree(tempDir(), imageDatasetFiles({ perClass: 2 }));
  const js = await load(dir, { decoder: 'js' });
  const auto = await load(dir);
  assert.equal([...js.train.pixels.subarray(0, 12 * 16 * 3)], [...auto.train.pixels.subarray(0, 12 * 16 * 3)]);
});

test('a corrupt or non-image file is an error naming it; skip_bad_files skips it with a warning', async () => {
  const files = imageDatasetFiles({ perClass: 3 });
  const good = files['train/dogs/00.png']!;
  const dir = writeTree(tempDir(), {
    ...files,
    'train/dogs/notes.txt': 'not an image',
    'train/cats/broken.jpg': jpegBytes(syntheticPixels(12, 16, 0, 5), 16, 12).subarray(0, 40),
    'train/dogs/.DS_Store': 'hidden files are ignored',
  });
  const message = await rejects(load(dir), /train\/cats\/broken\.jpg is not a valid JPEG image/);
  assert.match(message, /skip_bad_files: true/);
  writeFileSync(join(dir, 'train/cats/broken.jpg'), good);
  await rejects(load(dir), /train\/dogs\/notes\.txt is not a JPEG or PNG image \(it starts with bytes 6e 6f 74/);
  writeFileSync(join(dir, 'train/cats/broken.jpg'), good.subarray(0, 60));
  warnings.length = 0;
  const data = await load(dir, { skip_bad_files: true });
  assert.is(data.train.files.length, 6);
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!, /skipped 2 unreadable image file\(s\)/);
  assert.match(warnings[0]!, /broken\.jpg/);
  assert.match(warnings[0]!, /notes\.txt/);
});

test('layout problems are clear errors naming the path', async () => {
  const dir = tempDir();
  await rejects(load(join(dir, 'missing')), /missing does not exist/);
  writeTree(dir, { 'train/cats/0.png': pngBytes(syntheticPixels(4, 4, 0, 0), 4, 4) });
  await rejects(load(dir), /has no 'test' split folder/);
  writeTree(dir, { 'test/dogs/0.png': pngBytes(syntheticPixels(4, 4, 1, 0), 4, 4) });
  await rejects(load(dir), /the label sets of the splits differ/);
  const empty = tempDir();
  writeTree(empty, { 'train/cats/a.txt': 'x', 'test/cats/a.txt': 'x' });
  await rejects(load(empty, { skip_bad_files: true }), /'train' split has no readable images in class folder\(s\) 'cats'/);
  const archive = join(tempDir(), 'bad.tar');
  writeFileSync(archive, makeTar([{ name: 'x/train/cats/a.png', data: 'x' }]));
  await rejects(load(archive), /has no images under 'test\/<class>\/'/);
});

test('validation_split: an own val/ folder, from a folder and from a .tar; problems located at validation_split', async () => {
  const files = imageDatasetFiles({ perClass: 2 });
  for (const [name, data] of Object.entries(imageDatasetFiles({ perClass: 3 }))) {
    if (name.startsWith('test/')) files[name.replace(/^test\//, 'val/')] = data;
  }
  const dir = writeTree(tempDir(), files);
  const archive = join(dir, 'pets.tar');
  writeFileSync(archive, makeTar(Object.entries(files).map(([name, data]) => ({ name: `pets/${name}`, data }))));
  for (const path of [dir, archive]) {
    const data = await load(path, { validation_split: 'val' });
    assert.equal([...data.validation!.labels], [0, 0, 0, 1, 1, 1], path);
    assert.is(data.validation!.pixels.length, 6 * 12 * 16 * 3);
    assert.match(data.validation!.files[3]!, /val\/dogs\/00\.png$/);
    assert.is(data.validationSource, 'split val');
    assert.equal([...data.train.labels], [0, 0, 1, 1]);
  }
  const located = (path: string, params: Record<string, unknown>, pattern: RegExp) =>
    rejectsAtKey(() => load(path, params), ['validation_split'], pattern);
  await located(dir, { validation_split: 'valid' }, /no 'valid' split folder/);
  await located(archive, { validation_split: 'valid' }, /no images under 'valid\/<class>\/'/);
  const oneClass = writeTree(tempDir(), { ...imageDatasetFiles({ perClass: 1 }), 'val/cats/00.png': files['val/cats/00.png']! });
  await located(oneClass, { validation_split: 'val' }, /validation split's classes differ/);
  const broken = writeTree(tempDir(), { ...imageDatasetFiles({ perClass: 1 }), 'val/cats/00.png': new Uint8Array([1, 2, 3]) });
  await located(broken, { validation_split: 'val', skip_bad_files: true }, /'val' split has no readable images/);
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ImageDataset, TextDataset } from '../../../runner/data/types.ts';
import { holdoutIndices, holdOutValidation } from '../../../runner/data/validation.ts';
import { rejectsAtKey } from '../../helpers/errors.ts';

/** Labels sorted by class (the worst case for a "last fraction" split): 60 of class 0, 30 of 1, 10 of 2. */
const sortedLabels = Int32Array.from([...Array<number>(60).fill(0), ...Array<number>(30).fill(1), ...Array<number>(10).fill(2)]);
const classes = ['a', 'b', 'c'];

function perClass(labels: Int32Array, indices: Int32Array): number[] {
  const counts = [0, 0, 0];
  for (const i of indices) counts[labels[i]!]!++;
  return counts;
}

test('stratified: each class keeps its share in both parts; disjoint, complete, ascending', () => {
  const { train, validation } = holdoutIndices(sortedLabels, classes, { fraction: 0.2, stratify: true, seed: 0 });
  assert.equal(perClass(sortedLabels, validation), [12, 6, 2]);
  assert.equal(perClass(sortedLabels, train), [48, 24, 8]);
  const all = [...train, ...validation].sort((a, b) => a - b);
  assert.equal(
    all,
    Array.from({ length: 100 }, (_, i) => i),
  );
  assert.equal(
    [...train],
    [...train].sort((a, b) => a - b),
  );
  assert.equal(
    [...validation],
    [...validation].sort((a, b) => a - b),
  );
});

test('stratified shares are rounded so the total is ceil(fraction × n), as scikit-learn does', () => {
  // 7 / 5 / 3 with fraction 0.3: exact shares 2.1 / 1.5 / 0.9, total ceil(4.5) = 5 → 2, 2, 1.
  const labels = Int32Array.from([0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2]);
  const { validation } = holdoutIndices(labels, classes, { fraction: 0.3, stratify: true, seed: 4 });
  assert.equal(perClass(labels, validation), [2, 2, 1]);
  // 0.1 × 30 is 3.0000000000000004 in floating point: still 3.
  const thirty = Int32Array.from({ length: 30 }, (_, i) => i % 3);
  assert.is(holdoutIndices(thirty, classes, { fraction: 0.1, stratify: true, seed: 0 }).validation.length, 3);
});

test('same seed and data: the same split; another seed: another split; no "last fraction"', () => {
  const options = { fraction: 0.2, stratify: true, seed: 7 };
  const first = holdoutIndices(sortedLabels, classes, options);
  const again = holdoutIndices(sortedLabels, classes, options);
  assert.equal([...first.validation], [...again.validation]);
  const other = holdoutIndices(sortedLabels, classes, { ...options, seed: 8 });
  assert.not.equal([...first.validation], [...other.validation]);
  const last = Array.from({ length: 20 }, (_, i) => 80 + i);
  assert.not.equal([...first.validation], last);
});

test('stratify: false is a plain seeded random hold-out of ceil(fraction × n) examples', () => {
  const options = { fraction: 0.25, stratify: false, seed: 1 };
  const { train, validation } = holdoutIndices(sortedLabels, classes, options);
  assert.is(validation.length, 25);
  assert.is(train.length, 75);
  assert.equal([...validation], [...holdoutIndices(sortedLabels, classes, options).validation]);
  assert.not.equal([...validation], [...holdoutIndices(sortedLabels, classes, { ...options, seed: 2 }).validation]);
  assert.is(new Set([...train, ...validation]).size, 100);
});

test('a fraction that leaves a class without validation or training examples is a ConfigKeyError at data.validation.fraction', async () => {
  const expectError = (labels: Int32Array, fraction: number, stratify: boolean, pattern: RegExp) =>
    rejectsAtKey(() => holdoutIndices(labels, classes, { fraction, stratify, seed: 0 }), ['data', 'validation', 'fraction'], pattern);
  // Class c has 10 of 100: 0.03 holds out 3 examples (shares 1.8, 0.9, 0.3), none of them from c.
  await expectError(sortedLabels, 0.03, true, /class\(es\) 'c' get no validation example/);
  // A class with one example cannot be on both sides.
  const lonely = Int32Array.from([0, 0, 0, 0, 1, 1, 1, 1, 2]);
  await expectError(lonely, 0.5, true, /'c' (get no validation example|keep no training example)/);
  await expectError(Int32Array.from([0, 0, 1, 1, 2, 2]), 0.9, true, /keep no training example/);
});

test('holdOutValidation: text rows and image pixel rows follow their labels; test untouched', () => {
  const labels = Int32Array.from([0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
  const text: TextDataset = {
    kind: 'text',
    classes: ['a', 'b'],
    train: { texts: Array.from(labels, (l, i) => `${'ab'[l]}${i}`), labels },
    test: { texts: ['t'], labels: Int32Array.of(0) },
    source: 'memory',
  };
  const options = { fraction: 0.2, stratify: true, seed: 3 };
  const splitText = holdOutValidation(text, options);
  assert.is(splitText.validation!.texts.length, 2);
  assert.is(splitText.train.texts.length, 8);
  for (const part of [splitText.train, splitText.validation!]) {
    part.texts.forEach((t, i) => assert.is(t[0], 'ab'[part.labels[i]!]));
  }
  assert.is(splitText.test, text.test);
  assert.is(splitText.validationSource, 'fraction 0.2 of train (stratified, seed 3)');

  // Each image is filled with its own index, 2 × 2 × 3 bytes.
  const pixels = new Uint8Array(10 * 12);
  for (let i = 0; i < 10; i++) pixels.fill(i, i * 12, (i + 1) * 12);
  const image: ImageDataset = {
    kind: 'image',
    classes: ['a', 'b'],
    imageShape: [2, 2, 3],
    train: { pixels, labels, files: Array.from(labels, (_, i) => `f${i}`) },
    test: { pixels: new Uint8Array(12), labels: Int32Array.of(1), files: ['t'] },
    source: 'memory',
  };
  const splitImage = holdOutValidation(image, options);
  // Same labels, same seed: the same examples as the text split.
  assert.equal(
    splitImage.validation!.files,
    splitText.validation!.texts.map((t) => `f${t.slice(1)}`),
  );
  for (const part of [splitImage.train, splitImage.validation!]) {
    part.files.forEach((file, i) => {
      const index = Number(file.slice(1));
      assert.ok(
        part.pixels.subarray(i * 12, (i + 1) * 12).every((v) => v === index),
        file,
      );
      assert.is(part.labels[i], labels[index]);
    });
  }
});

test.run();

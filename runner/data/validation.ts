import { ConfigKeyError } from '../config/issues.ts';
import { seededRandom, shuffledIndices } from '../train/random.ts';
import { indexRange } from './batches.ts';
import type { Dataset, ImageSplit, TextSplit } from './types.ts';

/** `data.validation`: hold out a seeded (by default stratified) fraction of the training split. */
export interface HoldoutOptions {
  /** Share of the training examples held out, in (0, 1). */
  fraction: number;
  /** Keep each class's share in both parts (scikit-learn's `stratify=y`). */
  stratify: boolean;
  seed: number;
}

/** Where `data.validation.fraction` is written, for errors. */
const FRACTION_KEY = ['data', 'validation', 'fraction'];

/**
 * Which training examples to hold out, as scikit-learn's `train_test_split(test_size=fraction,
 * random_state=seed, stratify=labels)` chooses them: `ceil(fraction · n)` examples, each class
 * contributing its share (rounded, largest remainders first, so the total is exact); within each
 * class a seeded shuffle picks them. Depends only on the labels in the dataset's own order and the
 * seed. Both index lists come back ascending. A class left with no example in either part is a
 * ConfigKeyError at `data.validation.fraction`.
 */
export function holdoutIndices(
  labels: Int32Array,
  classes: readonly string[],
  options: HoldoutOptions,
): { train: Int32Array; validation: Int32Array } {
  const n = labels.length;
  const total = Math.ceil(options.fraction * n - 1e-9);
  const counts = new Int32Array(classes.length);
  for (const label of labels) counts[label]!++;
  const random = seededRandom(options.seed);
  const held = new Uint8Array(n);
  if (options.stratify) {
    const quotas = classQuotas(counts, total);
    // Indices of each class in dataset order: a stable sort of 0..n-1 by label.
    const byClass = indexRange(0, n).sort((a, b) => labels[a]! - labels[b]! || a - b);
    let start = 0;
    counts.forEach((count, c) => {
      const members = byClass.subarray(start, start + count);
      const order = shuffledIndices(count, random);
      for (let i = 0; i < quotas[c]!; i++) held[members[order[i]!]!] = 1;
      start += count;
    });
  } else {
    const order = shuffledIndices(n, random);
    for (let i = 0; i < total; i++) held[order[i]!] = 1;
  }
  const validation = indicesWhere(held, 1);
  const train = indicesWhere(held, 0);
  checkBothParts(labels, classes, train, validation, options);
  return { train, validation };
}

/** Per-class counts summing to `total`, each the class's share rounded (scikit-learn's `_approximate_mode`, ties to the earlier class). */
function classQuotas(counts: Int32Array, total: number): Int32Array {
  const n = counts.reduce((a, b) => a + b, 0);
  const exact = Array.from(counts, (count) => (count * total) / n);
  const quotas = Int32Array.from(exact, Math.floor);
  let left = total - quotas.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((value, c) => [value - Math.floor(value), c] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, c] of byRemainder) {
    if (left === 0) break;
    if (quotas[c]! < counts[c]!) {
      quotas[c]!++;
      left--;
    }
  }
  return quotas;
}

function indicesWhere(flags: Uint8Array, value: number): Int32Array {
  let count = 0;
  for (const flag of flags) if (flag === value) count++;
  const indices = new Int32Array(count);
  let next = 0;
  flags.forEach((flag, i) => {
    if (flag === value) indices[next++] = i;
  });
  return indices;
}

function checkBothParts(
  labels: Int32Array,
  classes: readonly string[],
  train: Int32Array,
  validation: Int32Array,
  options: HoldoutOptions,
): void {
  const missing = (indices: Int32Array) => {
    const seen = new Uint8Array(classes.length);
    for (const i of indices) seen[labels[i]!] = 1;
    return classes.filter((_, c) => seen[c] === 0);
  };
  const names = (list: string[]) => list.map((c) => `'${c}'`).join(', ');
  const noValidation = missing(validation);
  const noTraining = missing(train);
  if (noValidation.length === 0 && noTraining.length === 0) return;
  const problems = [
    noValidation.length > 0 ? `class(es) ${names(noValidation)} get no validation example` : '',
    noTraining.length > 0 ? `class(es) ${names(noTraining)} keep no training example` : '',
  ].filter(Boolean);
  throw new ConfigKeyError(
    FRACTION_KEY,
    `holding out ${options.fraction} of the ${labels.length} training examples` +
      `${options.stratify ? ' (stratified)' : ''}: ${problems.join(' and ')}.`,
    options.stratify
      ? 'Every class needs an example on both sides: change the fraction, or give the dataset its own validation split.'
      : 'Set stratify: true so each class keeps its share, or change the fraction or the seed.',
  );
}

/** The rows at `indices` of a row-major array with `rowLength` values per row (one copy per row). */
export function gatherRows<T extends Uint8Array | Int32Array>(data: T, rowLength: number, indices: Int32Array): T {
  const out = new (data.constructor as new (length: number) => T)(indices.length * rowLength);
  indices.forEach((row, i) => out.set(data.subarray(row * rowLength, (row + 1) * rowLength), i * rowLength));
  return out;
}

/** The examples of a split at `indices`, whatever its kind (text rows, image pixel rows). */
export function takeExamples<S extends TextSplit | ImageSplit>(split: S, indices: Int32Array): S {
  const labels = gatherRows(split.labels, 1, indices);
  if ('texts' in split) return { texts: Array.from(indices, (i) => split.texts[i]!), labels } as S;
  const image = split as ImageSplit;
  const rowLength = image.labels.length === 0 ? 0 : image.pixels.length / image.labels.length;
  return { pixels: gatherRows(image.pixels, rowLength, indices), labels, files: Array.from(indices, (i) => image.files[i]!) } as S;
}

/**
 * Splits a dataset's training split into the remaining training part and a validation part
 * (`holdoutIndices`); the test split is untouched. Works on any kind of dataset.
 */
export function holdOutValidation<D extends Dataset>(dataset: D, options: HoldoutOptions): D {
  const { train, validation } = holdoutIndices(dataset.train.labels, dataset.classes, options);
  const how = `fraction ${options.fraction} of train (${options.stratify ? 'stratified' : 'not stratified'}, seed ${options.seed})`;
  return {
    ...dataset,
    train: takeExamples(dataset.train, train),
    validation: takeExamples(dataset.train, validation),
    validationSource: how,
  };
}

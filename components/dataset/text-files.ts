import { readFile } from 'node:fs/promises';
import { UserError } from '../../runner/errors.ts';
import type { TextSplit } from '../../runner/data/types.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes UTF-8 bytes strictly; invalid bytes or an empty text are a UserError naming `where`. */
export function decodeText(bytes: Uint8Array, where: string): string {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new UserError(`${where} is not valid UTF-8 text. Re-encode it as UTF-8 (e.g. iconv -t UTF-8) or remove it.`);
  }
  if (text.trim() === '') throw new UserError(`${where} is empty: every example needs some text. Remove the file or fill it.`);
  return text;
}

/** Reads many small text files with bounded concurrency, in the order given. */
export async function readTextFiles(paths: readonly string[], concurrency = 64): Promise<string[]> {
  const texts = new Array<string>(paths.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < paths.length) {
      const index = next++;
      const path = paths[index]!;
      texts[index] = decodeText(await readFile(path), path);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, paths.length) }, worker));
  return texts;
}

/** The lesson's review preprocessing: newline characters removed. */
export function stripNewlines(text: string): string {
  return text.replace(/\r?\n/g, '');
}

/**
 * Maps string labels of both splits to indices in a stable order: `classes` when given, else the
 * training labels sorted. A test label unknown to training, or a class never seen in training, is a
 * UserError that names the dataset.
 */
export function indexLabels(
  train: { texts: string[]; labels: string[] },
  test: { texts: string[]; labels: string[] },
  where: string,
  classes?: string[],
): { classes: string[]; train: TextSplit; test: TextSplit } {
  const trainSet = new Set(train.labels);
  const testSet = new Set(test.labels);
  const ordered = classes ?? [...trainSet].sort();
  const known = new Set(ordered);
  const describe = (labels: Iterable<string>) => [...labels].map((l) => `'${l}'`).join(', ');
  const unknownInTrain = [...trainSet].filter((l) => !known.has(l));
  if (unknownInTrain.length > 0) {
    throw new UserError(`${where}: training labels ${describe(unknownInTrain)} are not among the configured classes ${describe(ordered)}.`);
  }
  const missing = ordered.filter((c) => !trainSet.has(c));
  const extraInTest = [...testSet].filter((l) => !trainSet.has(l));
  if (missing.length > 0 || extraInTest.length > 0 || ordered.length < 2) {
    throw new UserError(
      `${where}: the label sets of the splits differ or are too small. Training has ${describe(trainSet)}; ` +
        `test has ${describe(testSet)}` +
        (classes ? `; the config lists ${describe(classes)}` : '') +
        '. Both splits need the same two or more classes.',
    );
  }
  const index = new Map(ordered.map((c, i) => [c, i]));
  const toSplit = (s: { texts: string[]; labels: string[] }): TextSplit => ({
    texts: s.texts,
    labels: Int32Array.from(s.labels, (l) => index.get(l)!),
  });
  return { classes: ordered, train: toSplit(train), test: toSplit(test) };
}

import { readFile } from 'node:fs/promises';
import { ConfigKeyError, locatedAt } from '../../runner/config/issues.ts';
import { UserError } from '../../runner/errors.ts';
import type { TextDataset, TextSplit } from '../../runner/data/types.ts';

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

/** Labelled examples before their labels become indices. */
export interface LabelledTable {
  texts: string[];
  labels: string[];
}

/**
 * Maps string labels of the splits to indices in a stable order: `classes` when given, else the
 * training labels sorted. A test label unknown to training, or a class never seen in training, is a
 * UserError that names the dataset. A validation split (the dataset's own) must have examples and
 * exactly the training classes, else a ConfigKeyError at its param `validation.key`.
 */
export function indexLabels(
  train: LabelledTable,
  test: LabelledTable,
  where: string,
  classes?: string[],
  validation?: { split: LabelledTable; key: string },
): { classes: string[]; train: TextSplit; test: TextSplit; validation?: TextSplit } {
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
  if (validation) checkValidationLabels(validation.split, validation.key, ordered, where, describe);
  const index = new Map(ordered.map((c, i) => [c, i]));
  const toSplit = (s: LabelledTable): TextSplit => ({
    texts: s.texts,
    labels: Int32Array.from(s.labels, (l) => index.get(l)!),
  });
  return {
    classes: ordered,
    train: toSplit(train),
    test: toSplit(test),
    ...(validation && { validation: toSplit(validation.split) }),
  };
}

function checkValidationLabels(
  split: LabelledTable,
  key: string,
  classes: string[],
  where: string,
  describe: (labels: Iterable<string>) => string,
): void {
  if (split.labels.length === 0) throw new ConfigKeyError([key], `${where}: the validation split has no examples.`);
  const present = new Set(split.labels);
  if (present.size !== classes.length || classes.some((c) => !present.has(c))) {
    throw new ConfigKeyError(
      [key],
      `${where}: the validation split's classes differ from the training split's. Training has ${describe(classes)}; ` +
        `validation has ${describe([...present].sort())}.`,
      'Every class of the training split needs examples in the validation split, and no other class.',
    );
  }
}

/** How a text dataset reads its splits; `validation` is its own validation split, if configured. */
export interface TextSplitReaders {
  /** Where it came from, for logs. */
  source: string;
  /** Names the dataset in messages. */
  where: string;
  classes?: string[];
  train(): Promise<LabelledTable>;
  test(): Promise<LabelledTable>;
  /** `key`: the param that names it (its problems are located there); `source`: how it was made, for logs. */
  validation?: { key: string; source: string; read(): Promise<LabelledTable> };
}

/** Reads the splits concurrently and indexes their labels (`indexLabels`) into a TextDataset. */
export async function readTextDataset(readers: TextSplitReaders): Promise<TextDataset> {
  const own = readers.validation;
  const [train, test, validation] = await Promise.all([readers.train(), readers.test(), own && locatedAt([own.key], () => own.read())]);
  const ownSplit = own && validation && { split: validation, key: own.key };
  return {
    kind: 'text',
    source: readers.source,
    ...indexLabels(train, test, readers.where, readers.classes, ownSplit),
    ...(own && { validationSource: own.source }),
  };
}

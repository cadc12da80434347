import * as tf from '@tensorflow/tfjs';
import type { Tokenizer } from '../../components/tokenizer/tokenizer.ts';
import { evaluationOnly, TensorBatchSource } from './batches.ts';
import type { DataRunRecord, PreparedData, TextDataset } from './types.ts';
import { finishEncoding, indexTexts, type TokenizerConfig } from './text-encode.ts';
import { indexTextsByWhitespace } from './whitespace-index.ts';
import type { Vocab } from './vocab.ts';

/** One split as model input: token ids `[count, maxLen]` (row-major) and labels. */
export interface EncodedSplit {
  ids: Int32Array;
  labels: Int32Array;
  count: number;
}

/** A text dataset turned into tensors-to-be, with the vocabulary that did it. */
export interface EncodedTextData {
  vocab: Vocab;
  classes: string[];
  maxLen: number;
  train: EncodedSplit;
  /** Encoded with the training vocabulary; present when the dataset has a validation split. */
  validation?: EncodedSplit;
  test: EncodedSplit;
}

/**
 * Tokenizes the splits, builds the vocabulary from the training split only, encodes and pads
 * (validation texts, like test texts, are encoded with it and count for nothing).
 *
 * One pass per split, without keeping token arrays: tokens get provisional ids as they are counted
 * (only the first `maxLen` per text are stored), then a lookup table maps them to vocabulary ids.
 * When `tokenizerConfig` says the tokenizer is `whitespace`, a scanner that makes no string per
 * token does the same work (identical output).
 */
export function encodeTextDataset(
  dataset: TextDataset,
  tokenizer: Tokenizer,
  options: { minFreq: number; maxSize?: number; maxLen: number; tokenizerConfig?: TokenizerConfig },
): EncodedTextData {
  const { maxLen } = options;
  const lowercase = whitespaceLowercase(options.tokenizerConfig);
  // Validation texts go first among the texts the vocabulary does not count, then the ids split.
  const validationTexts = dataset.validation?.texts ?? [];
  const evalTexts = validationTexts.length > 0 ? [...validationTexts, ...dataset.test.texts] : dataset.test.texts;
  const part =
    lowercase === undefined
      ? indexTexts(tokenizer, dataset.train.texts, evalTexts, maxLen)
      : indexTextsByWhitespace(lowercase, dataset.train.texts, evalTexts, maxLen);
  const vocab = finishEncoding(part, options);
  const validationEnd = validationTexts.length * maxLen;
  const data = encoded(dataset, vocab, maxLen, part.trainIds, part.testIds.subarray(validationEnd));
  if (dataset.validation) {
    const { labels } = dataset.validation;
    data.validation = { ids: part.testIds.subarray(0, validationEnd), labels, count: labels.length };
  }
  return data;
}

/** The `lowercase` of a `whitespace` tokenizer config (its default: true); undefined for any other tokenizer. */
function whitespaceLowercase(config: TokenizerConfig | undefined): boolean | undefined {
  if (config?.type !== 'whitespace' || Object.keys(config).some((key) => key !== 'type' && key !== 'lowercase')) return undefined;
  return config.lowercase === undefined ? true : config.lowercase === true;
}

function encoded(dataset: TextDataset, vocab: Vocab, maxLen: number, train: Int32Array, test: Int32Array): EncodedTextData {
  return {
    vocab,
    classes: dataset.classes,
    maxLen,
    train: { ids: train, labels: dataset.train.labels, count: dataset.train.texts.length },
    test: { ids: test, labels: dataset.test.labels, count: dataset.test.texts.length },
  };
}

/** Encoded text as batch sources: the whole id matrix of each split lives on the backend. */
export function textBatchSources(encoded: EncodedTextData): Omit<PreparedData, 'dataSeconds'> {
  const source = (split: EncodedSplit) =>
    new TensorBatchSource(tf.tensor2d(split.ids, [split.count, encoded.maxLen], 'int32'), split.labels);
  return {
    classes: encoded.classes,
    inputShape: [encoded.maxLen],
    vocab: encoded.vocab,
    train: source(encoded.train),
    ...(encoded.validation && { validation: evaluationOnly(source(encoded.validation)) }),
    test: source(encoded.test),
    runRecord: textRunRecord(encoded.vocab),
  };
}

/** The vocabulary in a run's record: its size on the data line, `vocab.txt` in the run folder. */
export function textRunRecord(vocab: Vocab): DataRunRecord {
  return {
    details: `vocabulary ${vocab.size}`,
    beforeTraining: (run) => run.writeFile('vocab.txt', vocab.serialize()),
  };
}

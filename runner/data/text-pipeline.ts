import * as tf from '@tensorflow/tfjs';
import type { Tokenizer } from '../../components/tokenizer/tokenizer.ts';
import { TensorBatchSource } from './batches.ts';
import type { PreparedData, TextDataset } from './types.ts';
import { Vocab } from './vocab.ts';

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
  test: EncodedSplit;
}

/** Tokenizes both splits, builds the vocabulary from the training split only, encodes and pads. */
export function encodeTextDataset(
  dataset: TextDataset,
  tokenizer: Tokenizer,
  options: { minFreq: number; maxSize?: number; maxLen: number },
): EncodedTextData {
  const trainTokens = dataset.train.texts.map((text) => tokenizer.tokenize(text));
  const testTokens = dataset.test.texts.map((text) => tokenizer.tokenize(text));
  const vocab = Vocab.build(trainTokens, options);
  const split = (tokens: string[][], labels: Int32Array): EncodedSplit => ({
    ids: vocab.encode(tokens, options.maxLen),
    labels,
    count: labels.length,
  });
  return {
    vocab,
    classes: dataset.classes,
    maxLen: options.maxLen,
    train: split(trainTokens, dataset.train.labels),
    test: split(testTokens, dataset.test.labels),
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
    test: source(encoded.test),
  };
}

import type * as tf from '@tensorflow/tfjs';
import { UserError } from '../../runner/errors.ts';

/** The widest layer a config may ask for (units, channels, embedding width): wider ones would not fit in memory anyway. */
export const MAX_WIDTH = 65_536;
/** The most stacked layers or blocks a config may ask for. */
export const MAX_DEPTH = 256;

/** What a model builder knows about the data it will be trained on. */
export interface ModelContext {
  /** Number of classes; the model outputs this many logits. */
  numClasses: number;
  /** Shape of one input example: [max_len] for token ids, [height, width, channels] for images. */
  inputShape: number[];
  /** Vocabulary size including the specials (text data only). */
  vocabSize?: number;
  /** Pretrained embedding rows in vocabulary order, `[vocabSize, dim]`, when the config names one. */
  pretrainedEmbedding?: tf.Tensor2D;
  /** Build the architecture only, without reading pretrained weight files (the static check's build on placeholder data). */
  withoutWeights?: boolean;
}

/** A built model: a tfjs LayersModel from token ids (or pixels) to class logits. */
export type BuiltModel = tf.LayersModel;

/** The vocabulary size and sequence length a text model needs; a UserError for non-text data. */
export function textInput(model: string, context: ModelContext): { vocabSize: number; maxLen: number } {
  if (context.vocabSize === undefined || context.inputShape.length !== 1) {
    throw new UserError(`The ${model} model reads token ids, but the dataset is not a text dataset; use an image model instead.`);
  }
  return { vocabSize: context.vocabSize, maxLen: context.inputShape[0]! };
}

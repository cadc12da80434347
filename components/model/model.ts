import type * as tf from '@tensorflow/tfjs';

/** What a model builder knows about the data it will be trained on. */
export interface ModelContext {
  /** Vocabulary size including the specials (text models). */
  vocabSize: number;
  /** Number of classes; the model outputs this many logits. */
  numClasses: number;
  /** Sequence length every batch is padded or truncated to (text models). */
  maxLen: number;
  /** Pretrained embedding rows in vocabulary order, `[vocabSize, dim]`, when the config names one. */
  pretrainedEmbedding?: tf.Tensor2D;
}

/** A built model: a tfjs LayersModel from token ids (or pixels) to class logits. */
export type BuiltModel = tf.LayersModel;

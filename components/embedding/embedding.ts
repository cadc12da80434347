import type * as tf from '@tensorflow/tfjs';
import type { BuildContext } from '../../runner/registry.ts';

/** What an embedding builder knows: the vocabulary it must follow and the model's embedding width. */
export interface EmbeddingContext extends BuildContext {
  /** Vocabulary tokens in id order (`<pad>` = 0, `<unk>` = 1, then the words). */
  vocab: readonly string[];
  /** The model's embedding width, when the model config names one (checked against the file). */
  expectedDim?: number;
  /** Seeds random rows (the experiment's seed). */
  seed: number;
}

/** A pretrained embedding matrix in vocabulary order, ready for the model's embedding layers. */
export interface PretrainedEmbedding {
  /** `[vocab size, dim]` rows in vocabulary order; the caller disposes it. */
  matrix: tf.Tensor2D;
  dim: number;
  /** Vocabulary words (specials not counted) that the file does not have. */
  oov: number;
  /** A few of them, for the log. */
  oovExamples: string[];
  /** Vocabulary words the file has. */
  found: number;
  /** Keep the pretrained rows fixed during training (models decide which layers that concerns). */
  freeze: boolean;
  /** Where the vectors came from, for logs. */
  source: string;
}

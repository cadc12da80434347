import * as tf from '@tensorflow/tfjs';

/** Model inputs and labels of one batch. */
export interface Batch {
  x: tf.Tensor;
  y: tf.Tensor1D;
}

/** One split, ready to feed: its size, labels and batches by example index. */
export interface BatchSource {
  /** Number of examples. */
  readonly count: number;
  /** Class index of every example, in order. */
  readonly labels: Int32Array;
  /**
   * Inputs and labels of the examples at `indices` (tensors the caller disposes, e.g. in tf.tidy).
   * `training` batches may be augmented; evaluation batches never are.
   */
  batch(indices: Int32Array, training: boolean): Batch;
  /** Releases tensors the source holds. */
  dispose(): void;
  /** Position of the random stream its training batches draw from (augmentation), for checkpoints; absent when none. */
  randomState?(): number | undefined;
  /** Puts that stream back where `randomState()` said (exact resume). */
  restoreRandomState?(state: number): void;
}

/** A source over one in-memory tensor of inputs `[count, ...]`: batches are gathered on the backend. */
export class TensorBatchSource implements BatchSource {
  private readonly x: tf.Tensor;
  private readonly y: tf.Tensor1D;
  readonly count: number;

  /** Takes ownership of `x`; `augment` (if any) transforms training batches inside the caller's tidy. */
  constructor(
    x: tf.Tensor,
    readonly labels: Int32Array,
    private readonly augment?: (x: tf.Tensor) => tf.Tensor,
  ) {
    this.x = x;
    this.count = labels.length;
    this.y = tf.tensor1d(labels, 'int32');
  }

  batch(indices: Int32Array, training: boolean): Batch {
    const index = tf.tensor1d(indices, 'int32');
    const x = tf.gather(this.x, index);
    const y = tf.gather(this.y, index) as tf.Tensor1D;
    index.dispose();
    return { x: training && this.augment ? this.augment(x) : x, y };
  }

  dispose(): void {
    this.x.dispose();
    this.y.dispose();
  }
}

/** The indices start, start+1, ..., end-1. */
export function indexRange(start: number, end: number): Int32Array {
  const indices = new Int32Array(Math.max(0, end - start));
  for (let i = 0; i < indices.length; i++) indices[i] = start + i;
  return indices;
}

/** A source whose batches are always evaluation batches (validation: never augmented, whatever the caller asks). */
export function evaluationOnly(source: BatchSource): BatchSource {
  return {
    count: source.count,
    labels: source.labels,
    batch: (indices) => source.batch(indices, false),
    dispose: () => source.dispose(),
  };
}

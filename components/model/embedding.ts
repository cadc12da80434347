import type * as tf from '@tensorflow/tfjs';
import { UserError } from '../../runner/errors.ts';
import type { ModelContext } from './model.ts';

/**
 * Copies the context's pretrained matrix (if any) into the named embedding layers of a built model.
 * Weights are set after building, so saved models need no custom initializer to load.
 */
export function loadPretrainedEmbeddings(model: tf.LayersModel, layerNames: string[], context: ModelContext, size: number): void {
  const pretrained = context.pretrainedEmbedding;
  if (!pretrained) return;
  const [rows, width] = pretrained.shape;
  if (width !== size || rows !== context.vocabSize) {
    throw new UserError(
      `The pretrained embedding is ${rows}×${width} but the model's embedding is ${context.vocabSize}×${size}; ` +
        `set the model's embedding size to ${width}.`,
    );
  }
  for (const name of layerNames) model.getLayer(name).setWeights([pretrained]);
}

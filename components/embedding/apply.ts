import type * as tf from '@tensorflow/tfjs';
import type { BuildContext } from '../../runner/registry.ts';
import type { PretrainedEmbedding } from './embedding.ts';
import { embeddings } from './index.ts';

/** Builds the config's `data.embedding` (if any) for a vocabulary; the model's `embed_size` is the expected width. */
export async function buildPretrainedEmbedding(
  config: { type: string } & Record<string, unknown>,
  vocab: readonly string[],
  options: { expectedDim?: number; seed: number },
  context: BuildContext,
): Promise<PretrainedEmbedding> {
  return embeddings.build(config, { ...context, vocab, expectedDim: options.expectedDim, seed: options.seed });
}

/** A loaded embedding without its matrix (what logs and summaries need). */
export type EmbeddingInfo = Omit<PretrainedEmbedding, 'matrix'>;

/** The embedding's description, without its matrix. */
export function embeddingInfo(embedding: PretrainedEmbedding): EmbeddingInfo {
  const { matrix: _matrix, ...info } = embedding;
  return info;
}

/** The log line of a loaded embedding, with the lesson's "There are N oov words." */
export function describeEmbedding(embedding: EmbeddingInfo): string {
  const words = embedding.found + embedding.oov;
  const examples = embedding.oovExamples.length > 0 ? ` (e.g. ${embedding.oovExamples.slice(0, 5).join(', ')})` : '';
  return (
    `embedding: ${embedding.source}: ${embedding.dim}-d vectors for ${embedding.found} of ${words} vocabulary words` +
    `${embedding.freeze ? ', frozen' : ''}. There are ${embedding.oov} oov words.${examples}`
  );
}

/** Makes every Embedding layer of `model` non-trainable (the layers that received the pretrained rows). */
export function freezeEmbeddingLayers(model: tf.LayersModel): string[] {
  const frozen: string[] = [];
  for (const layer of model.layers) {
    if (layer.getClassName() === 'Embedding') {
      layer.trainable = false;
      frozen.push(layer.name);
    }
  }
  return frozen;
}

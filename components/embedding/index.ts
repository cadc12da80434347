import { Registry } from '../../runner/registry.ts';
import type { EmbeddingContext, PretrainedEmbedding } from './embedding.ts';
import { glove } from './glove.ts';

/** Registered pretrained embeddings (`data.embedding.type`); builders return a matrix in vocabulary order. */
export const embeddings = new Registry<Promise<PretrainedEmbedding>, EmbeddingContext>('embedding').register(glove);

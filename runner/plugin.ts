/**
 * The public module for component authors: everything a plugin (`plugins: [./my_components.ts]` in a config) needs.
 *
 *   import { definePlugin, defineComponent, Type, type ModelContext } from '<runner>/runner/plugin.ts';
 *   const mlp = defineComponent({ name: 'mlp', summary: '...', params: Type.Object({...}), build(params, context: ModelContext) {...} });
 *   export default definePlugin({ model: [mlp] });
 */
export { Type, type Static, type TObject } from '@sinclair/typebox';
/** The TensorFlow.js the runner trains with (use it, not your own copy, so models run on the runner's backend). */
export * as tf from '@tensorflow/tfjs';
export { defineComponent, Registry, type BuildContext, type CheckContext, type CheckIssue, type Component } from './registry.ts';
export { definePlugin, type Plugin } from './config/plugin-modules.ts';
export { componentKinds, type ComponentKind } from './config/schema.ts';
export { UserError } from './errors.ts';
// The registries, one per kind, and what their builders take and return.
export { augmentations } from '../components/augmentation/index.ts';
export type { ApplyTo, Augmentation, ImageShape, Rng } from '../components/augmentation/augmentation.ts';
export { datasets } from '../components/dataset/index.ts';
export type { Dataset, ImageDataset, ImageSplit, TextDataset, TextSplit } from './data/types.ts';
export { embeddings } from '../components/embedding/index.ts';
export type { EmbeddingContext, PretrainedEmbedding } from '../components/embedding/embedding.ts';
export { models } from '../components/model/index.ts';
export { textInput, type BuiltModel, type ModelContext } from '../components/model/model.ts';
export { optimizers } from '../components/optimizer/index.ts';
export type { OptimizerSpec, UpdateRule } from './train/optimizer.ts';
export { schedules } from '../components/schedule/index.ts';
export type { LrSchedule, ScheduleContext } from './train/schedule.ts';
export { tokenizers } from '../components/tokenizer/index.ts';
export { TokenizerParams, type Tokenizer } from '../components/tokenizer/tokenizer.ts';

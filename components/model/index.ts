import { Registry } from '../../runner/registry.ts';
import { birnn } from './birnn.ts';
import type { BuiltModel, ModelContext } from './model.ts';
import { textcnn } from './textcnn.ts';

/** Registered models (`model.type`); builders return (or resolve to) a LayersModel that outputs class logits. */
export const models = new Registry<BuiltModel | Promise<BuiltModel>, ModelContext>('model').register(textcnn, birnn);

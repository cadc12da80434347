import { Registry } from '../../runner/registry.ts';
import { birnn } from './birnn.ts';
import { mobilenetV1 } from './mobilenet_v1.ts';
import type { BuiltModel, ModelContext } from './model.ts';
import { pretrained } from './pretrained.ts';
import { resnet18 } from './resnet18.ts';
import { smallCnn } from './small_cnn.ts';
import { textcnn } from './textcnn.ts';

/** Registered models (`model.type`); builders return (or resolve to) a LayersModel that outputs class logits. */
export const models = new Registry<BuiltModel | Promise<BuiltModel>, ModelContext>('model').register(
  textcnn,
  birnn,
  pretrained,
  mobilenetV1,
  resnet18,
  smallCnn,
);

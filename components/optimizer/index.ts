import { Registry } from '../../runner/registry.ts';
import type { OptimizerSpec } from '../../runner/train/optimizer.ts';
import { adam } from './adam.ts';
import { sgd } from './sgd.ts';

/** Registered optimizers (`optimizer.type`); each supports `param_groups`. */
export const optimizers = new Registry<OptimizerSpec>('optimizer').register(adam, sgd);

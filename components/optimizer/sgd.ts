import * as tf from '@tensorflow/tfjs';
import { Type } from '@sinclair/typebox';
import { defineComponent, type CheckIssue } from '../../runner/registry.ts';
import { withWeightDecay, type OptimizerSpec } from '../../runner/train/optimizer.ts';
import { ParamGroupsSchema } from '../../runner/train/param-groups.ts';

/** SGD as in PyTorch (momentum buffer starts at the first gradient; optional Nesterov; L2 weight decay). */
export const sgd = defineComponent({
  name: 'sgd',
  summary: 'Stochastic gradient descent with momentum, Nesterov and weight decay (PyTorch semantics).',
  params: Type.Object(
    {
      lr: Type.Number({ exclusiveMinimum: 0, default: 0.01, description: 'Learning rate of the default group.' }),
      momentum: Type.Number({ minimum: 0, default: 0, description: 'Momentum factor (0 disables momentum).' }),
      dampening: Type.Number({ minimum: 0, default: 0, description: 'Dampening applied to the momentum.' }),
      nesterov: Type.Boolean({ default: false, description: 'Use Nesterov momentum (needs momentum > 0, dampening 0).' }),
      weight_decay: Type.Number({ minimum: 0, default: 0, description: 'L2 penalty added to the gradient.' }),
      param_groups: ParamGroupsSchema,
    },
    { additionalProperties: false },
  ),
  check({ momentum, dampening, nesterov }): CheckIssue[] {
    if (!nesterov || (momentum > 0 && dampening === 0)) return [];
    return [{ path: ['nesterov'], message: 'sgd: nesterov needs momentum > 0 and dampening 0 (as in PyTorch).' }];
  },
  build(params): OptimizerSpec {
    const { momentum, dampening, nesterov } = params;
    return {
      lr: params.lr,
      weightDecay: params.weight_decay,
      paramGroups: params.param_groups,
      rule: {
        slots: momentum > 0 ? ['momentum_buffer'] : [],
        update({ param, grad, slots: [buffer], lr, weightDecay, step }) {
          let direction = withWeightDecay(grad, param, weightDecay);
          if (buffer) {
            buffer.assign(step === 1 ? direction : tf.add(tf.mul(buffer, momentum), tf.mul(direction, 1 - dampening)));
            direction = nesterov ? tf.add(direction, tf.mul(buffer, momentum)) : buffer;
          }
          param.assign(tf.sub(param, tf.mul(direction, lr)));
        },
      },
    };
  },
});

import * as tf from '@tensorflow/tfjs';
import { Type } from '@sinclair/typebox';
import { defineComponent } from '../../runner/registry.ts';
import { withWeightDecay, type OptimizerSpec } from '../../runner/train/optimizer.ts';
import { ParamGroupsSchema } from '../../runner/train/param-groups.ts';

/** Adam as in PyTorch (bias-corrected moments, eps outside the square root, L2 weight decay). */
export const adam = defineComponent({
  name: 'adam',
  summary: 'Adam with per-group learning rates (PyTorch semantics; weight decay added to the gradient).',
  params: Type.Object(
    {
      lr: Type.Number({ exclusiveMinimum: 0, default: 0.001, description: 'Learning rate of the default group.' }),
      betas: Type.Tuple([Type.Number({ minimum: 0, exclusiveMaximum: 1 }), Type.Number({ minimum: 0, exclusiveMaximum: 1 })], {
        default: [0.9, 0.999],
        description: 'Decay rates of the first and second moment estimates.',
      }),
      eps: Type.Number({ exclusiveMinimum: 0, default: 1e-8, description: 'Added to the denominator for stability.' }),
      weight_decay: Type.Number({ minimum: 0, default: 0, description: 'L2 penalty added to the gradient.' }),
      param_groups: ParamGroupsSchema,
    },
    { additionalProperties: false },
  ),
  build(params): OptimizerSpec {
    const [beta1, beta2] = params.betas;
    return {
      lr: params.lr,
      weightDecay: params.weight_decay,
      paramGroups: params.param_groups,
      rule: {
        slots: ['exp_avg', 'exp_avg_sq'],
        update({ param, grad, slots: [m, v], lr, weightDecay, step }) {
          const g = withWeightDecay(grad, param, weightDecay);
          m!.assign(tf.add(tf.mul(m!, beta1), tf.mul(g, 1 - beta1)));
          v!.assign(tf.add(tf.mul(v!, beta2), tf.mul(tf.square(g), 1 - beta2)));
          const stepSize = lr / (1 - beta1 ** step);
          const denominator = tf.add(tf.div(tf.sqrt(v!), Math.sqrt(1 - beta2 ** step)), params.eps);
          param.assign(tf.sub(param, tf.mul(tf.div(m!, denominator), stepSize)));
        },
      },
    };
  },
});

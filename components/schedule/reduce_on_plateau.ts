import { Type } from '@sinclair/typebox';
import { defineComponent } from '../../runner/registry.ts';
import type { LrSchedule, ScheduleContext } from '../../runner/train/schedule.ts';

/** PyTorch ReduceLROnPlateau, stepped after every epoch with the monitored metric; mode follows the monitor's goal. */
export const reduce_on_plateau = defineComponent({
  name: 'reduce_on_plateau',
  summary:
    "ReduceLROnPlateau: multiplies every group's rate by factor when the monitored metric has not improved for more than " +
    "patience epochs (mode min or max from the run's monitor goal; PyTorch semantics).",
  params: Type.Object(
    {
      interval: Type.Literal('epoch', {
        default: 'epoch',
        description: 'Always epoch: the schedule sees the monitored metric after every epoch.',
      }),
      factor: Type.Number({
        exclusiveMinimum: 0,
        exclusiveMaximum: 1,
        default: 0.1,
        description: 'Multiplies the rates at each reduction.',
      }),
      patience: Type.Integer({
        minimum: 0,
        default: 10,
        description: 'Epochs without improvement tolerated; the rates drop after more than this many in a row.',
      }),
      threshold: Type.Number({
        minimum: 0,
        default: 1e-4,
        description: 'Smallest change that counts as an improvement (see threshold_mode).',
      }),
      threshold_mode: Type.Union([Type.Literal('rel'), Type.Literal('abs')], {
        default: 'rel',
        description: 'rel: better means below best · (1 − threshold) (max: above best · (1 + threshold)); abs: best ∓ threshold.',
      }),
      cooldown: Type.Integer({ minimum: 0, default: 0, description: 'Epochs after a reduction before bad epochs count again.' }),
      min_lr: Type.Number({ minimum: 0, default: 0, description: 'No group goes below this rate.' }),
      eps: Type.Number({ minimum: 0, default: 1e-8, description: 'A reduction smaller than this is skipped.' }),
    },
    { additionalProperties: false },
  ),
  build(params, context: ScheduleContext): LrSchedule {
    return {
      kind: 'plateau',
      interval: params.interval,
      plateau: {
        mode: context.monitorGoal === 'maximize' ? 'max' : 'min',
        factor: params.factor,
        patience: params.patience,
        threshold: params.threshold,
        thresholdMode: params.threshold_mode,
        cooldown: params.cooldown,
        minLr: params.min_lr,
        eps: params.eps,
      },
    };
  },
});

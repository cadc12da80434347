import { Type } from '@sinclair/typebox';
import { defineComponent } from '../../runner/registry.ts';
import { ScheduleIntervalSchema, type LrSchedule, type ScheduleContext } from '../../runner/train/schedule.ts';
import { afterWarmup, WarmupSchema, warmupStartSchema } from './common.ts';

/**
 * CosineAnnealingLR after an optional linear warm-up: PyTorch's
 * SequentialLR([LinearLR(start_factor=warmup_start_factor, end_factor=1, total_iters=warmup),
 * CosineAnnealingLR(T_max=t_max − warmup, eta_min)], milestones=[warmup]); plain CosineAnnealingLR(t_max, eta_min) without warm-up.
 */
export const cosine = defineComponent({
  name: 'cosine',
  summary:
    'CosineAnnealingLR from the initial rate to eta_min over t_max scheduler steps, after an optional linear warm-up ' +
    '(= SequentialLR(LinearLR, CosineAnnealingLR(T_max = t_max − warmup)) with the milestone at warmup).',
  params: Type.Object(
    {
      interval: ScheduleIntervalSchema,
      t_max: Type.Optional(
        Type.Integer({
          minimum: 1,
          description:
            "Scheduler steps from the start (warm-up included) until the rate reaches eta_min (default: the run's length in scheduler steps). " +
            'Past t_max the rate rises again, as in PyTorch.',
        }),
      ),
      eta_min: Type.Number({ minimum: 0, default: 0, description: 'Lowest rate, reached at t_max (the same for every group).' }),
      warmup: WarmupSchema,
      warmup_start_factor: warmupStartSchema('Factor of the initial rate at t = 0 of the warm-up; it rises linearly to 1 at t = warmup.'),
    },
    { additionalProperties: false },
  ),
  build({ interval, t_max, eta_min, warmup, warmup_start_factor }, context: ScheduleContext): LrSchedule {
    const warmupOptions = { warmup, startFactor: warmup_start_factor, lengthKey: 't_max', length: t_max };
    return afterWarmup(
      interval,
      context,
      warmupOptions,
      (base, t, steps) => eta_min + ((base - eta_min) * (1 + Math.cos((Math.PI * t) / steps))) / 2,
    );
  },
});

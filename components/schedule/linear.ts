import { Type } from '@sinclair/typebox';
import { defineComponent } from '../../runner/registry.ts';
import { ScheduleIntervalSchema, type LrSchedule, type ScheduleContext } from '../../runner/train/schedule.ts';
import { afterWarmup, ramp, WarmupSchema, warmupStartSchema } from './common.ts';

/**
 * Linear warm-up then linear decay: PyTorch's SequentialLR([LinearLR(start_factor, 1, total_iters=warmup),
 * LinearLR(1, end_factor, total_iters=total − warmup)], milestones=[warmup]); LinearLR(1, end_factor, total) without warm-up.
 */
export const linear = defineComponent({
  name: 'linear',
  summary:
    'Linear warm-up from start_factor to 1 over warmup scheduler steps, then linear decay to end_factor at total, then constant ' +
    '(= SequentialLR of LinearLR(start_factor, 1, warmup) and LinearLR(1, end_factor, total − warmup)).',
  params: Type.Object(
    {
      interval: ScheduleIntervalSchema,
      warmup: WarmupSchema,
      start_factor: warmupStartSchema('Factor of the initial rate at t = 0 of the warm-up (unused without warm-up).'),
      end_factor: Type.Number({ minimum: 0, maximum: 1, default: 0, description: 'Factor of the initial rate at t = total and after.' }),
      total: Type.Optional(
        Type.Integer({
          minimum: 1,
          description:
            "Scheduler steps from the start (warm-up included) to the end of the decay (default: the run's length in scheduler steps).",
        }),
      ),
    },
    { additionalProperties: false },
  ),
  build({ interval, warmup, start_factor, end_factor, total }, context: ScheduleContext): LrSchedule {
    const warmupOptions = { warmup, startFactor: start_factor, lengthKey: 'total', length: total };
    return afterWarmup(interval, context, warmupOptions, (base, t, steps) => base * ramp(1, end_factor, t, steps));
  },
});

import { Type } from '@sinclair/typebox';
import { defineComponent } from '../../runner/registry.ts';
import { ScheduleIntervalSchema, type LrSchedule } from '../../runner/train/schedule.ts';
import { gammaSchema } from './common.ts';

/** PyTorch StepLR: rate = initial · gamma^floor(t / step_size). */
export const step = defineComponent({
  name: 'step',
  summary: 'StepLR: multiplies the rate by gamma every step_size scheduler steps (initial · gamma^floor(t / step_size)).',
  params: Type.Object(
    {
      interval: ScheduleIntervalSchema,
      step_size: Type.Integer({ minimum: 1, description: 'Scheduler steps between decays.' }),
      gamma: gammaSchema({ default: 0.1 }),
    },
    { additionalProperties: false },
  ),
  build({ interval, step_size, gamma }): LrSchedule {
    return { kind: 'closed_form', interval, rate: (base, t) => base * gamma ** Math.floor(t / step_size) };
  },
});

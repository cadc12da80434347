import { Type } from '@sinclair/typebox';
import { defineComponent } from '../../runner/registry.ts';
import { ScheduleIntervalSchema, type LrSchedule } from '../../runner/train/schedule.ts';
import { gammaSchema } from './common.ts';

/** PyTorch ExponentialLR: rate = initial · gamma^t. */
export const exponential = defineComponent({
  name: 'exponential',
  summary: 'ExponentialLR: multiplies the rate by gamma every scheduler step (initial · gamma^t).',
  params: Type.Object({ interval: ScheduleIntervalSchema, gamma: gammaSchema() }, { additionalProperties: false }),
  build({ interval, gamma }): LrSchedule {
    return { kind: 'closed_form', interval, rate: (base, t) => base * gamma ** t };
  },
});

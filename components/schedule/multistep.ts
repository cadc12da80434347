import { Type } from '@sinclair/typebox';
import { UserError } from '../../runner/errors.ts';
import { defineComponent } from '../../runner/registry.ts';
import { ScheduleIntervalSchema, type LrSchedule } from '../../runner/train/schedule.ts';
import { gammaSchema, SCHEDULE_PATH } from './common.ts';

/** PyTorch MultiStepLR: rate = initial · gamma^(number of milestones ≤ t). */
export const multistep = defineComponent({
  name: 'multistep',
  summary: 'MultiStepLR: multiplies the rate by gamma at each milestone (initial · gamma^(milestones ≤ t)).',
  params: Type.Object(
    {
      interval: ScheduleIntervalSchema,
      milestones: Type.Array(Type.Integer({ minimum: 1 }), {
        minItems: 1,
        description: 'Scheduler steps at which the rate decays, strictly increasing.',
      }),
      gamma: gammaSchema({ default: 0.1 }),
    },
    { additionalProperties: false },
  ),
  build({ interval, milestones, gamma }): LrSchedule {
    if (milestones.some((m, i) => i > 0 && m <= milestones[i - 1]!)) {
      throw new UserError(`${SCHEDULE_PATH}.milestones must increase strictly, got [${milestones.join(', ')}].`);
    }
    return { kind: 'closed_form', interval, rate: (base, t) => base * gamma ** milestones.filter((m) => m <= t).length };
  },
});

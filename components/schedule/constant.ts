import { Type } from '@sinclair/typebox';
import { defineComponent } from '../../runner/registry.ts';
import { ScheduleIntervalSchema, type LrSchedule } from '../../runner/train/schedule.ts';

/** Constant rates: every group keeps its initial rate (the same as no schedule; not PyTorch's ConstantLR). */
export const constant = defineComponent({
  name: 'constant',
  summary: "Keeps every group's initial rate (the same as no schedule; not PyTorch's ConstantLR).",
  params: Type.Object({ interval: ScheduleIntervalSchema }, { additionalProperties: false }),
  build(params): LrSchedule {
    return { kind: 'closed_form', interval: params.interval, rate: (base) => base };
  },
});

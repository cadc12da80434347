import { Type } from '@sinclair/typebox';
import { UserError } from '../../runner/errors.ts';
import { runSchedulerSteps, type LrSchedule, type ScheduleContext, type ScheduleInterval } from '../../runner/train/schedule.ts';

/** Where schedules sit in a config, for messages. */
export const SCHEDULE_PATH = 'optimizer.schedule';

/** The multiplicative `gamma` of step, multistep and exponential. */
export const gammaSchema = (options: { default?: number } = {}) =>
  Type.Number({ exclusiveMinimum: 0, ...options, description: 'Multiplies the rate at each decay.' });

/** Scheduler steps of linear warm-up before the main schedule. */
export const WarmupSchema = Type.Integer({
  minimum: 0,
  default: 0,
  description: 'Scheduler steps of linear warm-up (0: none), counted inside the schedule length.',
});

/** Factor of the initial rate at t = 0 of a warm-up (PyTorch LinearLR start_factor; its default 1/3). */
export const warmupStartSchema = (description: string) => Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 1 / 3, description });

/** PyTorch LinearLR's factor: from `start` at t = 0 to `end` at t = `total`, then constant. */
export function ramp(start: number, end: number, t: number, total: number): number {
  return start + ((end - start) * Math.min(t, total)) / total;
}

/** The warm-up options of a schedule and the length (its key and value, if given) it is part of. */
export interface Warmup {
  warmup: number;
  startFactor: number;
  lengthKey: string;
  length: number | undefined;
}

/**
 * PyTorch's SequentialLR([LinearLR(startFactor, 1, total_iters=warmup), main], milestones=[warmup]) in closed
 * form: `main(base, t, steps)` starts from its own t = 0 and has the `steps` left of the length after the
 * warm-up. The length defaults to the run's length in scheduler steps; a warm-up that does not end before it
 * is a UserError naming both keys.
 */
export function afterWarmup(
  interval: ScheduleInterval,
  context: ScheduleContext,
  { warmup, startFactor, lengthKey, length: given }: Warmup,
  main: (base: number, t: number, steps: number) => number,
): LrSchedule {
  const length = given ?? runSchedulerSteps(interval, context);
  if (warmup >= length) {
    throw new UserError(
      `${SCHEDULE_PATH}.warmup (${warmup}) must be less than ${SCHEDULE_PATH}.${lengthKey} ` +
        `(${given ?? `${length}, the run's length in scheduler steps`}).`,
    );
  }
  const steps = length - warmup;
  return {
    kind: 'closed_form',
    interval,
    rate: (base, t) => (t < warmup ? base * ramp(startFactor, 1, t, warmup) : main(base, t - warmup, steps)),
  };
}

import { Type } from '@sinclair/typebox';
import { UserError } from '../../runner/errors.ts';

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
export const warmupStartSchema = (description: string) =>
  Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 1 / 3, description });

/** PyTorch LinearLR's factor: from `start` at t = 0 to `end` at t = `total`, then constant. */
export function ramp(start: number, end: number, t: number, total: number): number {
  return start + ((end - start) * Math.min(t, total)) / total;
}

/**
 * A schedule's length: `given`, or the run's length in scheduler steps; throws a UserError naming
 * the keys when the warm-up does not end before it.
 */
export function scheduleLength(key: string, given: number | undefined, runSteps: number, warmup: number): number {
  const length = given ?? runSteps;
  if (warmup >= length) {
    const what = given === undefined ? `${length}, the run's length in scheduler steps` : String(length);
    throw new UserError(`${SCHEDULE_PATH}.warmup (${warmup}) must be less than ${SCHEDULE_PATH}.${key} (${what}).`);
  }
  return length;
}

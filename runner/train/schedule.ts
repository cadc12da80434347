import { Type } from '@sinclair/typebox';
import type { BuildContext } from '../registry.ts';
import type { GroupedOptimizer } from './optimizer.ts';

/** When a schedule advances: after each epoch's optimizer steps (as PyTorch users call `scheduler.step()`), or after every optimizer step. */
export type ScheduleInterval = 'epoch' | 'step';

/** The `interval` option every schedule has. */
export const ScheduleIntervalSchema = Type.Union([Type.Literal('epoch'), Type.Literal('step')], {
  default: 'epoch',
  description:
    "epoch: the schedule advances once after each epoch's optimizer steps (PyTorch's usual scheduler.step()); " +
    'step: after every optimizer step. t, t_max, step_size, milestones and warmup count these scheduler steps.',
});

/** A schedule with a closed form: the rate of a group whose initial rate is `base`, after `t` scheduler steps. */
export interface ClosedFormSchedule {
  kind: 'closed_form';
  interval: ScheduleInterval;
  rate(base: number, t: number): number;
}

/** ReduceLROnPlateau's options (PyTorch names in camelCase; `mode` from the run's monitor goal). */
export interface PlateauOptions {
  mode: 'min' | 'max';
  factor: number;
  patience: number;
  threshold: number;
  thresholdMode: 'rel' | 'abs';
  cooldown: number;
  minLr: number;
  eps: number;
}

/** A schedule that reacts to the monitored metric after every epoch (ReduceLROnPlateau). */
export interface PlateauSchedule {
  kind: 'plateau';
  interval: 'epoch';
  plateau: PlateauOptions;
}

/** What a schedule component builds. */
export type LrSchedule = ClosedFormSchedule | PlateauSchedule;

/** Build context of schedules: the BuildContext plus the run's length and its monitor. */
export interface ScheduleContext extends BuildContext {
  /** Epochs the run trains. */
  epochs: number;
  /** Optimizer steps per epoch (after `train.max_steps_per_epoch`). */
  stepsPerEpoch: number;
  /** Whether the monitored metric should go down or up (ReduceLROnPlateau's mode; default minimize). */
  monitorGoal?: 'minimize' | 'maximize';
}

/** Scheduler steps in the whole run for a schedule stepped every `interval`: the default length of cosine and linear. */
export function runSchedulerSteps(interval: ScheduleInterval, context: ScheduleContext): number {
  return interval === 'step' ? context.epochs * context.stepsPerEpoch : context.epochs;
}

/** `±Infinity` as JSON can hold it. */
type JsonNumber = number | 'inf' | '-inf';

/** A scheduler's state as plain JSON, for checkpoints. */
export interface ScheduleState {
  interval: ScheduleInterval;
  /** Scheduler steps taken (PyTorch's `last_epoch`). */
  t: number;
  /** Current learning rate of each trainable group by name. */
  rates: Record<string, number>;
  /** ReduceLROnPlateau's counters (PyTorch's names). */
  plateau?: { best: JsonNumber; num_bad_epochs: number; cooldown_counter: number };
}

/** Drives a schedule over a GroupedOptimizer; its state goes into checkpoints. */
export class LrScheduler {
  private readonly base: Record<string, number>;
  /** Current rate of each trainable group (mirrored into the optimizer). */
  private rates: Record<string, number>;
  private t = 0;
  private best = Infinity;
  private numBadEpochs = 0;
  private cooldownCounter = 0;

  /** Sets the rates of `t = 0` from each trainable group's initial rate, as PyTorch does at construction. */
  constructor(
    readonly schedule: LrSchedule,
    private readonly optimizer: GroupedOptimizer,
  ) {
    this.base = optimizer.baseLearningRates();
    this.rates = { ...this.base };
    if (schedule.kind === 'plateau') this.best = schedule.plateau.mode === 'min' ? Infinity : -Infinity;
    this.applyRates();
  }

  /** Call after every optimizer step: a `step` schedule advances. */
  afterStep(): void {
    if (this.schedule.interval !== 'step') return;
    this.t++;
    this.applyRates();
  }

  /**
   * Call after every epoch's evaluation with the monitored metric's value: an `epoch` schedule
   * advances; a plateau schedule needs the value and throws without it.
   */
  afterEpoch(monitored?: number): void {
    if (this.schedule.kind === 'plateau') {
      if (monitored === undefined) {
        throw new Error('reduce_on_plateau needs the monitored metric after every epoch, but afterEpoch() got no value');
      }
      this.t++;
      this.observe(monitored, this.schedule.plateau);
    } else if (this.schedule.interval === 'epoch') {
      this.t++;
      this.applyRates();
    }
  }

  /** The scheduler's state as plain JSON (counters, plateau best and counters, current rates). */
  state(): ScheduleState {
    const state: ScheduleState = { interval: this.schedule.interval, t: this.t, rates: { ...this.rates } };
    if (this.schedule.kind === 'plateau') {
      state.plateau = { best: toJson(this.best), num_bad_epochs: this.numBadEpochs, cooldown_counter: this.cooldownCounter };
    }
    return state;
  }

  /** Restores a state from `state()`: the scheduler and the optimizer's rates continue exactly as they would have. */
  restore(state: ScheduleState): void {
    const kind = state.plateau ? 'plateau' : 'closed_form';
    if (state.interval !== this.schedule.interval || kind !== this.schedule.kind) {
      throw new Error(
        `schedule state is of a ${kind} schedule stepped every ${state.interval}, ` +
          `but this schedule is ${this.schedule.kind} stepped every ${this.schedule.interval}`,
      );
    }
    const saved = Object.keys(state.rates).sort().join(', ');
    const groups = Object.keys(this.base).sort().join(', ');
    if (saved !== groups)
      throw new Error(`schedule state has rates of groups ${saved}, but the optimizer's trainable groups are ${groups}`);
    this.t = state.t;
    if (state.plateau) {
      this.best = fromJson(state.plateau.best);
      this.numBadEpochs = state.plateau.num_bad_epochs;
      this.cooldownCounter = state.plateau.cooldown_counter;
    }
    this.rates = { ...state.rates };
    this.optimizer.setLearningRates(this.rates);
  }

  /** Closed forms: every group's rate at `t` from its initial rate; then the optimizer gets the rates. */
  private applyRates(): void {
    const schedule = this.schedule;
    if (schedule.kind === 'closed_form') {
      this.rates = Object.fromEntries(Object.entries(this.base).map(([name, base]) => [name, schedule.rate(base, this.t)]));
    }
    this.optimizer.setLearningRates(this.rates);
  }

  /** One ReduceLROnPlateau.step(value), PyTorch's code line by line. */
  private observe(value: number, options: PlateauOptions): void {
    if (isBetter(value, this.best, options)) {
      this.best = value;
      this.numBadEpochs = 0;
    } else this.numBadEpochs++;
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > options.patience) {
      for (const [name, old] of Object.entries(this.rates)) {
        const lowered = Math.max(old * options.factor, options.minLr);
        if (old - lowered > options.eps) this.rates[name] = lowered;
      }
      this.optimizer.setLearningRates(this.rates);
      this.cooldownCounter = options.cooldown;
      this.numBadEpochs = 0;
    }
  }
}

/** ReduceLROnPlateau.is_better. */
function isBetter(value: number, best: number, { mode, threshold, thresholdMode }: PlateauOptions): boolean {
  if (mode === 'min') return thresholdMode === 'rel' ? value < best * (1 - threshold) : value < best - threshold;
  return thresholdMode === 'rel' ? value > best * (1 + threshold) : value > best + threshold;
}

function toJson(value: number): JsonNumber {
  return value === Infinity ? 'inf' : value === -Infinity ? '-inf' : value;
}

function fromJson(value: JsonNumber): number {
  return value === 'inf' ? Infinity : value === '-inf' ? -Infinity : value;
}

import type { Monitor } from '../config/lifecycle.ts';

export type { Monitor };

/** Best-so-far and the count of epochs without improvement, as saved in checkpoints. */
export interface SelectionState {
  best?: number;
  best_epoch?: number;
  wait: number;
}

/**
 * Keras's rule for the best epoch and early stopping: an epoch improves when its monitored value beats the
 * best by more than `minDelta` in the monitor's direction; `wait` counts the epochs since the last one that did.
 * A value that is not finite never improves.
 */
export class ModelSelection {
  best: number | undefined;
  bestEpoch: number | undefined;
  wait = 0;

  constructor(
    private readonly monitor: Monitor | undefined,
    private readonly minDelta: number,
  ) {}

  /** Records an epoch's monitored value; true when it is the new best. */
  observe(epoch: number, value: number | undefined): boolean {
    if (!this.monitor || value === undefined) return false;
    const better =
      Number.isFinite(value) &&
      (this.best === undefined ||
        (this.monitor.goal === 'minimize' ? value < this.best - this.minDelta : value > this.best + this.minDelta));
    if (better) {
      this.best = value;
      this.bestEpoch = epoch;
      this.wait = 0;
    } else {
      this.wait++;
    }
    return better;
  }

  state(): SelectionState {
    return { best: this.best, best_epoch: this.bestEpoch, wait: this.wait };
  }

  restore(state: SelectionState): void {
    this.best = state.best;
    this.bestEpoch = state.best_epoch;
    this.wait = state.wait;
  }
}

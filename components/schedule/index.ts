import { Registry } from '../../runner/registry.ts';
import type { LrSchedule, ScheduleContext } from '../../runner/train/schedule.ts';
import { constant } from './constant.ts';
import { cosine } from './cosine.ts';
import { exponential } from './exponential.ts';
import { linear } from './linear.ts';
import { multistep } from './multistep.ts';
import { reduce_on_plateau } from './reduce_on_plateau.ts';
import { step } from './step.ts';

/** Registered learning-rate schedules (`optimizer.schedule.type`). */
export const schedules = new Registry<LrSchedule, ScheduleContext>('schedule').register(
  constant,
  step,
  multistep,
  exponential,
  cosine,
  linear,
  reduce_on_plateau,
);

/** How schedules behave and how they map onto PyTorch: a section of docs/CONFIG.md. */
export const SCHEDULE_NOTES = `Schedules sit inside the optimizer: \`optimizer: {type: adam, lr: 0.001, param_groups: [...], schedule: {type: cosine, warmup: 2}}\`.
Without \`schedule\` every group keeps its rate.

- \`t\` counts scheduler steps. With \`interval: epoch\` (default) the schedule advances after each epoch's optimizer steps,
  where PyTorch code calls \`scheduler.step()\`; with \`interval: step\` after every optimizer step. The rate of \`t = 0\` is
  set before the first step, as PyTorch does when a scheduler is constructed. The default length of \`cosine\` (\`t_max\`)
  and \`linear\` (\`total\`) is the run's length in scheduler steps: \`train.epochs\`, or \`train.epochs\` × steps per epoch
  (after \`train.max_steps_per_epoch\`) with \`interval: step\`.
- Every trainable parameter group is scaled from its own initial rate, so per-group rates (\`lr_mult: 10\` for a new head)
  keep their ratio (cosine's \`eta_min\` is one absolute rate for all groups, as in PyTorch). Frozen groups are never
  touched. \`lr/<group>\` metrics log the current rate.
- The scheduler's state (its step counter, the plateau counters and every group's current rate) is plain JSON for
  checkpoints: a resumed run continues with exactly the rates of an uninterrupted one.

| schedule | PyTorch equivalent (\`η0\`: a group's initial rate) |
|---|---|
| \`constant\` | no scheduler |
| \`step\` | \`StepLR(step_size, gamma)\`: \`η0 · gamma^floor(t / step_size)\` |
| \`multistep\` | \`MultiStepLR(milestones, gamma)\`: \`η0 · gamma^(milestones ≤ t)\` |
| \`exponential\` | \`ExponentialLR(gamma)\`: \`η0 · gamma^t\` |
| \`cosine\` | \`warmup: 0\`: \`CosineAnnealingLR(T_max=t_max, eta_min)\`; else \`SequentialLR([LinearLR(start_factor=warmup_start_factor, end_factor=1, total_iters=warmup), CosineAnnealingLR(T_max=t_max − warmup, eta_min)], milestones=[warmup])\` |
| \`linear\` | \`warmup: 0\`: \`LinearLR(start_factor=1, end_factor, total_iters=total)\`; else \`SequentialLR([LinearLR(start_factor, 1, total_iters=warmup), LinearLR(1, end_factor, total_iters=total − warmup)], milestones=[warmup])\` |
| \`reduce_on_plateau\` | \`ReduceLROnPlateau(mode, factor, patience, threshold, threshold_mode, cooldown, min_lr, eps)\`, stepped with the monitored metric after every epoch |

Where we differ from PyTorch:
- Rates come from the closed forms above; PyTorch updates most of them recursively. Both agree to float precision, and
  ours can be restored from \`t\` alone.
- \`constant\` is not PyTorch's \`ConstantLR\` (a temporary factor); it keeps the rates.
- \`multistep\` milestones must increase strictly (PyTorch applies gamma twice at a repeated milestone).
- \`reduce_on_plateau\`: \`mode\` is not a key; it follows the run's monitor goal (\`min\` for a metric to minimize, also
  when the run monitors nothing, \`max\` to maximize). \`min_lr\` is one number for every group. It always steps per epoch.
- \`cosine\` and \`linear\` count the warm-up inside \`t_max\` / \`total\`, so the rate reaches \`eta_min\` / \`end_factor\` at the
  end of the run by default; \`warmup\` must be less than that length. Past \`t_max\` cosine rises again, as in PyTorch.`;

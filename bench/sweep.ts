// Sweep throughput: 8 small trials (sentence fixture, the quickstart-sized TextCNN), run by runSweep as
// separate processes, the way `runner sweep` runs them:
//   node --import tsx bench/sweep.ts [--trials 8] [--epochs 10] [--repeat 1] [--mlflow]
// 1. max_parallel 1 vs 2: wall time of the whole sweep and the ratio (goal >= 1.6x on 2 cores).
// 2. per-trial start-up overhead beyond training, at max_parallel 1: (sweep wall time - the trials' own run
//    time from summary.json) / trials, i.e. everything that is not a trial training: process start, imports,
//    backend, data, scheduling, process exit (the first trial's cold start included); and the median time
//    between one trial's run ending and the next one's starting (the steady state). With pre-warmed processes
//    (the default) and without.
// --mlflow tracks every trial (and the parent) in a local MLflow store, which adds its requests and uploads.
// Tracking is off otherwise. Each configuration runs in a fresh runs folder, so nothing is skipped.
// --repeat N runs the configurations N times, interleaved, and reports medians (for a machine whose load moves).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { planSweep } from '../runner/sweep/plan.ts';
import { runSweep } from '../runner/sweep/run-sweep.ts';

const { values: opts } = parseArgs({
  options: {
    trials: { type: 'string', default: '8' },
    epochs: { type: 'string', default: '10' },
    repeat: { type: 'string', default: '1' },
    mlflow: { type: 'boolean', default: false },
  },
});
const TRIALS = Number(opts.trials);
const root = mkdtempSync(join(tmpdir(), 'runner-bench-sweep-'));
const fixture = new URL('../tests/fixtures/sentences', import.meta.url).pathname;
const seeds = Array.from({ length: Math.ceil(TRIALS / 4) }, (_, i) => i + 1);

/** A sweep config of TRIALS trials (4 learning rates x seeds), max_parallel `parallel`. */
function config(parallel: number): string {
  const file = join(root, `sweep-${parallel}.yaml`);
  writeFileSync(
    file,
    `name: bench-sweep
seed: 3
data:
  dataset: {type: text_folder, path: ${JSON.stringify(fixture)}}
  max_len: 24
  batch_size: 32
model: {type: textcnn, embed_size: 16, kernel_sizes: [2, 3], num_channels: [8, 8]}
optimizer: {type: adam, lr: 0.01}
train: {epochs: ${Number(opts.epochs)}, log_every_steps: 5, save_model: false}
tracking: ${opts.mlflow ? '{}' : 'false'}
sweep:
  matrix:
    optimizer.lr: [0.01, 0.005, 0.002, 0.001]
    seed: ${JSON.stringify(seeds)}
  max_parallel: ${parallel}
`,
  );
  return file;
}

interface Result {
  label: string;
  wall: number;
  /** Sum of the trials' own run time (summary.json duration_s: training, evaluation, saving). */
  runSeconds: number;
  trials: number;
  /** Median time from one trial's run ending to the next one's starting (max_parallel 1: the steady-state overhead). */
  medianGap: number;
}

async function measure(label: string, parallel: number, prewarm: boolean): Promise<Result> {
  const plan = planSweep(config(parallel));
  plan.trials = plan.trials.slice(0, TRIALS);
  const runsDir = join(root, `runs-${label.replace(/\W+/g, '-')}`);
  const t0 = performance.now();
  const outcome = await runSweep(plan, { runsDir, quiet: true, prewarm });
  const wall = (performance.now() - t0) / 1000;
  if (outcome.status !== 'FINISHED') throw new Error(`${label}: the sweep ended ${outcome.status}`);
  let runSeconds = 0;
  const spans: [number, number][] = [];
  for (const trial of outcome.trials) {
    const summary = JSON.parse(readFileSync(join(trial.runDir!, 'summary.json'), 'utf8')) as { duration_s: number; started_at: string };
    runSeconds += summary.duration_s;
    const start = Date.parse(summary.started_at) / 1000;
    spans.push([start, start + summary.duration_s]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  const gaps = spans
    .slice(1)
    .map(([start], i) => start - spans[i]![1])
    .sort((a, b) => a - b);
  const medianGap = gaps.length > 0 ? gaps[Math.floor(gaps.length / 2)]! : 0;
  return { label, wall, runSeconds, trials: outcome.trials.length, medianGap };
}

const REPEAT = Number(opts.repeat);
const CONFIGS = [
  ['max_parallel 1', 1, true],
  ['max_parallel 2', 2, true],
  ['max_parallel 1, no pre-warm', 1, false],
] as const;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

console.log(
  `bench/sweep: ${TRIALS} trials, ${opts.epochs} epochs each, tracking ${opts.mlflow ? 'to a local MLflow store' : 'off'}, ` +
    `${REPEAT} round${REPEAT === 1 ? '' : 's'}; ${availableParallelism()} cores, load average ${load()}`,
);
try {
  const results = new Map<string, Result[]>();
  for (let round = 1; round <= REPEAT; round++) {
    // Configurations interleaved, so a change in the machine's load hits them alike.
    for (const [label, parallel, prewarm] of CONFIGS) {
      const result = await measure(`${label} round ${round}`, parallel, prewarm);
      results.set(label, [...(results.get(label) ?? []), result]);
      const overhead = (result.wall - result.runSeconds / parallel) / result.trials;
      console.log(
        `round ${round}: ${label.padEnd(28)} wall ${result.wall.toFixed(1).padStart(6)} s, trials' own run time ${result.runSeconds.toFixed(1).padStart(6)} s` +
          (parallel === 1
            ? `; overhead per trial ${overhead.toFixed(2)} s on average, ${result.medianGap.toFixed(2)} s between trials (median)`
            : '') +
          ` (load ${load()})`,
      );
    }
  }
  const one = results.get('max_parallel 1')!;
  const two = results.get('max_parallel 2')!;
  const cold = results.get('max_parallel 1, no pre-warm')!;
  const perTrial = (r: Result) => (r.wall - r.runSeconds) / r.trials;
  console.log(
    `median of ${REPEAT}: speed-up max_parallel 2 vs 1 ${(median(one.map((r) => r.wall)) / median(two.map((r) => r.wall))).toFixed(2)}x ` +
      `(per round: ${one.map((r, i) => (r.wall / two[i]!.wall).toFixed(2)).join(', ')}); ` +
      `overhead per trial at max_parallel 1: ${median(one.map(perTrial)).toFixed(2)} s on average, ${median(one.map((r) => r.medianGap)).toFixed(2)} s between trials ` +
      `(without pre-warm: ${median(cold.map(perTrial)).toFixed(2)} s, ${median(cold.map((r) => r.medianGap)).toFixed(2)} s)`,
  );
  console.log(`load average after: ${load()}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}

// Many runs at once on one local store (issue 16): `--runs` concurrent `runner run` processes, a sweep running
// `--sweep` trials at once and `runner ui`, all started together on a fresh store, through the real CLI. Every run
// must be tracked live (tracking.json synced), FINISHED in MLflow, with every metric history equal to its
// metrics.jsonl, no "database is locked" anywhere, and the store's server started once (tests/helpers/load.ts checks).
// Before each, the same load with `tracking: false`, for the tracking overhead per run at that load: the median training
// time (epoch_time_s + eval_time_s, the loop's own clock) tracked vs untracked, and the median wall time.
//   node --import tsx bench/shared-store.ts [--runs 8] [--sweep 4] [--epochs 3] [--repeat 1] [--no-compare]
// Target: 8 runs + a 4-way sweep + the UI with 0 errors. A few minutes on 2 cores (each load is 12 TensorFlow
// processes and a server); the machine's load average is printed at the start and the end, as part of the result.
import { availableParallelism, loadavg } from 'node:os';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { type LoadResult, runLoad } from '../tests/helpers/load.ts';

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '8' },
    sweep: { type: 'string', default: '4' },
    epochs: { type: 'string', default: '3' },
    repeat: { type: 'string', default: '1' },
    'no-compare': { type: 'boolean', default: false },
  },
});
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
const runs = Number(opts.runs);
const sweepTrials = Number(opts.sweep);
const train = `{epochs: ${Number(opts.epochs)}, log_every_steps: 1}`;
console.log(`load average at the start: ${load()} (${availableParallelism()} cores)`);
console.log(`load: ${runs} runner run + a sweep of ${sweepTrials} trials at once + runner ui, on one fresh local store; train ${train}`);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const describe = (r: LoadResult) =>
  `wall ${r.wallSeconds.toFixed(1)} s, median training time per run ${median(r.runs.map((x) => x.trainSeconds)).toFixed(2)} s`;

// Rounds alternate the two loads (untracked first, then tracked, ...) to spread drift in the machine's load.
const tracked: LoadResult[] = [];
const untracked: LoadResult[] = [];
for (let round = 0; round < Number(opts.repeat); round++) {
  if (!opts['no-compare']) {
    const off = await runLoad({ runs, sweepTrials, train, tracking: false, ui: false });
    console.log(`round ${round + 1} untracked: ${off.runs.length} runs, ${off.problems.length} errors; ${describe(off)} (load ${load()})`);
    untracked.push(off);
    rmSync(dirname(off.runsDir), { recursive: true, force: true });
  }
  const on = await runLoad({ runs, sweepTrials, train });
  console.log(`round ${round + 1} tracked:   ${on.runs.length} runs, ${on.problems.length} errors; ${describe(on)} (load ${load()})`);
  for (const problem of on.problems) console.log(`  error: ${problem.split('\n')[0]}`);
  tracked.push(on);
  rmSync(dirname(on.runsDir), { recursive: true, force: true });
}
const errors = tracked.reduce((n, r) => n + r.problems.length, 0);
console.log(`tracked loads: ${tracked.length}, runs tracked: ${tracked.reduce((n, r) => n + r.runs.length, 0)}, errors: ${errors}`);
if (untracked.length > 0) {
  const perRun = (rs: LoadResult[]) => median(rs.flatMap((r) => r.runs.map((x) => x.trainSeconds)));
  const wall = (rs: LoadResult[]) => median(rs.map((r) => r.wallSeconds));
  const [on, off] = [perRun(tracked), perRun(untracked)];
  console.log(
    `tracking overhead per run at this load (medians over all rounds): training time ${(((on - off) / off) * 100).toFixed(1)}%` +
      ` (${on.toFixed(2)} s vs ${off.toFixed(2)} s); wall time of the whole load ${wall(tracked).toFixed(1)} s vs ${wall(untracked).toFixed(1)} s`,
  );
}
console.log(`load average at the end: ${load()}`);
process.exitCode = errors === 0 ? 0 : 1;

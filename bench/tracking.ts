// Tracking overhead: the quick start trained with tracking to the local MLflow store vs `tracking: false`,
// same config and seed, through the real CLI (bin/runner.js):
//   node --import tsx bench/tracking.ts [--epochs 40] [--repeats 3] [--log-every 1]
// Training time = the sum of epoch_time_s + eval_time_s in metrics.jsonl (the training loop's own clock), so the
// local server's start-up (seconds, overlapped with data loading, before the first step) is reported apart.
// Runs alternate (off, on, off, on, ...) to spread drift. The verdict compares the best (shortest) training time of
// each side, the usual estimate under outside load (other jobs only ever add time); medians are printed too.
// Limit: overhead <= 2%.
// Logging every step (--log-every 1) sends ~10x more points than the default, to stress the uploader.
// About a minute on 2 cores with the defaults.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    epochs: { type: 'string', default: '40' },
    repeats: { type: 'string', default: '3' },
    'log-every': { type: 'string', default: '1' },
    config: { type: 'string', default: 'configs/quickstart.yaml' },
  },
});

interface Sample {
  tracking: boolean;
  trainSeconds: number;
  wallSeconds: number;
  points: number;
}

function runOnce(tracking: boolean): Sample {
  const runsDir = mkdtempSync(join(tmpdir(), 'runner-bench-tracking-'));
  try {
    const args = [
      'bin/runner.js',
      'run',
      opts.config!,
      '--runs-dir',
      runsDir,
      '--quiet',
      '--set',
      `train.epochs=${opts.epochs}`,
      '--set',
      `train.log_every_steps=${opts['log-every']}`,
    ];
    if (!tracking) args.push('--set', 'tracking=false');
    const env = { ...process.env };
    delete env.MLFLOW_TRACKING_URI; // the local store
    const t0 = performance.now();
    execFileSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
    const wallSeconds = (performance.now() - t0) / 1000;
    const experiment = readdirSync(runsDir).find((d) => d !== 'mlflow')!;
    const runDir = join(runsDir, experiment, readdirSync(join(runsDir, experiment))[0]!);
    let trainSeconds = 0;
    let points = 0;
    for (const line of readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').split('\n')) {
      if (!line) continue;
      const record = JSON.parse(line) as { metrics: Record<string, number> };
      points += Object.keys(record.metrics).length;
      trainSeconds += (record.metrics.epoch_time_s ?? 0) + (record.metrics.eval_time_s ?? 0);
    }
    if (tracking) {
      const record = JSON.parse(readFileSync(join(runDir, 'tracking.json'), 'utf8')) as { synced: boolean };
      if (!record.synced) throw new Error(`the tracked run did not reach MLflow (see ${runDir})`);
    }
    return { tracking, trainSeconds, wallSeconds, points };
  } finally {
    rmSync(runsDir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const samples: Sample[] = [];
runOnce(false); // warm-up: file caches, TensorFlow's first load
for (let i = 0; i < Number(opts.repeats); i++) {
  for (const tracking of [false, true]) {
    const s = runOnce(tracking);
    samples.push(s);
    console.log(
      `${tracking ? 'tracking on ' : 'tracking off'}  train ${s.trainSeconds.toFixed(2)} s  wall ${s.wallSeconds.toFixed(1)} s  (${s.points} metric points)`,
    );
  }
}
const off = samples.filter((s) => !s.tracking);
const on = samples.filter((s) => s.tracking);
const best = (xs: number[]) => Math.min(...xs);
const trainOff = best(off.map((s) => s.trainSeconds));
const trainOn = best(on.map((s) => s.trainSeconds));
const overhead = (trainOn - trainOff) / trainOff;
const medianOverhead = median(on.map((s) => s.trainSeconds)) / median(off.map((s) => s.trainSeconds)) - 1;
const wallExtra = median(on.map((s) => s.wallSeconds)) - median(off.map((s) => s.wallSeconds));
console.log(
  `\nbest training time: off ${trainOff.toFixed(2)} s, on ${trainOn.toFixed(2)} s -> overhead ${(overhead * 100).toFixed(1)}% (limit 2%)` +
    `; medians: ${(medianOverhead * 100).toFixed(1)}%` +
    `\nmedian wall time added by tracking (local server start/stop, final upload): ${wallExtra.toFixed(1)} s`,
);
process.exitCode = overhead <= 0.02 ? 0 : 1;

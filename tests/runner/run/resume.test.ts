import { existsSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { resolveConnection } from '../../../runner/tracking/auth.ts';
import { MlflowClient } from '../../../runner/tracking/client.ts';
import { readMetricsFile } from '../../../runner/tracking/metrics-file.ts';
import { readRunRecord } from '../../../runner/tracking/run-record.ts';
import { runCli } from '../../helpers/cli.ts';
import { fixture, tempDir, writeTree } from '../../helpers/files.ts';
import { getTestServer, type TestServer, uniqueName } from '../../helpers/mlflow.ts';

const test = suite('runner run --resume');
const ctx: { server?: TestServer } = {};
test.before(async () => {
  ctx.server = await getTestServer();
});
test.after(async () => {
  await ctx.server?.stop();
});
const client = () => new MlflowClient(resolveConnection(ctx.server!.uri, {}));

/** Timings differ between runs; everything else must be identical. */
const TIMINGS = new Set(['examples_per_sec', 'epoch_time_s', 'eval_time_s', 'test_eval_time_s']);

/** A 5-epoch TextCNN (dropout on: tfjs draws its masks from Math.random) tracked in `experiment`. */
function writeConfig(experiment: string, extra = ''): string {
  return join(
    writeTree(tempDir(), {
      'experiment.yaml': `name: ${experiment}
seed: 5
data:
  dataset: {type: text_folder, path: ${JSON.stringify(fixture('sentences'))}}
  max_len: 24
  batch_size: 32
model: {type: textcnn, embed_size: 16, kernel_sizes: [2, 3], num_channels: [8, 8], dropout: 0.5}
optimizer: {type: adam, lr: 0.01}
train: {epochs: 5, log_every_steps: 4, monitor: {metric: train_loss}, eval_test_every_epoch: true}
tracking: {uri: ${JSON.stringify(ctx.server!.uri)}}
${extra}`,
    }),
    'experiment.yaml',
  );
}

function runDirOf(runsDir: string, experiment: string): string {
  const runs = readdirSync(join(runsDir, experiment));
  assert.is(runs.length, 1, `one run in ${runsDir}/${experiment}`);
  return join(runsDir, experiment, runs[0]!);
}

/** metrics.jsonl without timestamps and timings: what an uninterrupted run and a resumed one must share. */
function comparableMetrics(runDir: string) {
  return readMetricsFile(join(runDir, 'metrics.jsonl')).records.map((r) => ({
    step: r.step,
    epoch: r.epoch,
    metrics: Object.fromEntries(Object.entries(r.metrics).filter(([k]) => !TIMINGS.has(k))),
  }));
}

/** The epoch of `checkpoints/last`, or 0 before the first. */
function checkpointEpoch(runDir: string | undefined): number {
  const file = runDir && join(runDir, 'checkpoints', 'last', 'checkpoint.json');
  if (!file || !existsSync(file)) return 0;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { state: { epoch: number } }).state.epoch;
  } catch {
    return 0;
  }
}

/** Starts `runner run`, sends `signal` once checkpoints/last holds epoch `epoch`; resolves when the process ended. */
async function interruptAt(config: string, runsDir: string, experiment: string, epoch: number, signal: NodeJS.Signals) {
  let sent = false;
  const result = await runCli(['run', config, '--runs-dir', runsDir], {
    onStart: (child) => {
      const poll = setInterval(() => {
        const dir = join(runsDir, experiment);
        const run = existsSync(dir) ? readdirSync(dir)[0] : undefined;
        if (checkpointEpoch(run && join(dir, run)) >= epoch) {
          clearInterval(poll);
          sent = child.kill(signal);
        }
      }, 10);
      child.on('close', () => clearInterval(poll));
    },
  });
  assert.ok(sent, `the run ended before epoch ${epoch}: ${result.stderr}`);
  return result;
}

/** Per key, MLflow's history has one point per step, with the values metrics.jsonl has. */
async function assertMlflowMatches(runDir: string): Promise<void> {
  const record = readRunRecord(runDir)!;
  const run = (await client().getRun(record.run_id!))!;
  assert.is(run.info.status, 'FINISHED');
  const byKey = new Map<string, Array<[number, number]>>();
  for (const r of readMetricsFile(join(runDir, 'metrics.jsonl')).records) {
    for (const [key, value] of Object.entries(r.metrics)) {
      if (!byKey.has(key)) byKey.set(key, []);
      byKey.get(key)!.push([r.step, value]);
    }
  }
  for (const [key, expected] of byKey) {
    const history = (await client().getMetricHistory(record.run_id!, key)).map((m) => [m.step, m.value] as [number, number]);
    history.sort((a, b) => a[0] - b[0]);
    assert.equal(
      history.map(([step]) => step),
      expected.map(([step]) => step),
      `${key}: one point per step in MLflow, none duplicated`,
    );
    if (!TIMINGS.has(key)) assert.equal(history, expected, `${key}: MLflow holds the values of metrics.jsonl`);
  }
}

test('killed (Ctrl-C) after epoch 2 of 5, resumed: the same metrics as an uninterrupted run, one MLflow run', async () => {
  const experiment = uniqueName('resume-int');
  const config = writeConfig(experiment);
  const straightDir = tempDir();
  const straight = await runCli(['run', config, '--runs-dir', straightDir]);
  assert.is(straight.code, 0, straight.stderr);

  const runsDir = tempDir();
  const first = await interruptAt(config, runsDir, experiment, 2, 'SIGINT');
  assert.is(first.code, 130, first.stderr);
  const runDir = runDirOf(runsDir, experiment);
  assert.is(JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')).status, 'KILLED');
  const stoppedAt = checkpointEpoch(runDir);
  assert.ok(stoppedAt >= 2 && stoppedAt < 5, `checkpoint after epoch ${stoppedAt}`);

  const resumed = await runCli(['run', '--resume', runDir]);
  assert.is(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, `resumed after epoch ${stoppedAt}`);
  assert.equal(comparableMetrics(runDir), comparableMetrics(runDirOf(straightDir, experiment)));
  const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'));
  assert.is(summary.status, 'FINISHED');
  assert.is(summary.epochs_completed, 5);
  assert.is(summary.resumed_after_epoch, stoppedAt);
  await assertMlflowMatches(runDir);
  const runs = await client().searchRuns({ experimentIds: [(await client().getExperimentByName(experiment))!.experiment_id] });
  assert.is(runs.length, 2, 'the uninterrupted run and the resumed one: resuming made no new run');
});

test('killed hard (SIGKILL) mid-run, resumed: the same metrics, nothing duplicated in MLflow', async () => {
  const experiment = uniqueName('resume-kill');
  const config = writeConfig(experiment);
  const straightDir = tempDir();
  assert.is((await runCli(['run', config, '--runs-dir', straightDir])).code, 0);

  const runsDir = tempDir();
  const first = await interruptAt(config, runsDir, experiment, 2, 'SIGKILL');
  assert.is(first.signal, 'SIGKILL');
  const runDir = runDirOf(runsDir, experiment);
  assert.not.ok(existsSync(join(runDir, 'summary.json')), 'a process killed hard writes no summary');
  const resumed = await runCli(['run', '--resume', runDir]);
  assert.is(resumed.code, 0, resumed.stderr);
  assert.equal(comparableMetrics(runDir), comparableMetrics(runDirOf(straightDir, experiment)));
  await assertMlflowMatches(runDir);
});

test('bad --resume input: exit 2 with one paragraph each; a corrupt checkpoint falls back to the previous one', async () => {
  const notRun = await runCli(['run', '--resume', tempDir()]);
  assert.is(notRun.code, 2);
  assert.match(notRun.stderr, 'is not a run folder');
  assert.not.match(notRun.stderr, /\n\s+at /);

  const experiment = uniqueName('resume-bad');
  const config = writeConfig(experiment);
  const finishedDir = tempDir();
  assert.is((await runCli(['run', config, '--runs-dir', finishedDir, '--set', 'train.epochs=1'])).code, 0);
  const finished = await runCli(['run', '--resume', runDirOf(finishedDir, experiment)]);
  assert.is(finished.code, 2);
  assert.match(finished.stderr, 'FINISHED; there is nothing to continue');

  const runsDir = tempDir();
  await interruptAt(config, runsDir, experiment, 2, 'SIGKILL');
  const runDir = runDirOf(runsDir, experiment);

  // The config file edited since: refused, then accepted with --force and recorded.
  const original = readFileSync(config, 'utf8');
  writeFileSync(config, original.replace('lr: 0.01', 'lr: 0.02'));
  const changed = await runCli(['run', '--resume', runDir]);
  assert.is(changed.code, 2);
  assert.match(changed.stderr, 'has changed since the run started');
  assert.match(changed.stderr, '--force');
  writeFileSync(config, original);

  // A truncated checkpoint: named, and the previous good one is used.
  const epochBefore = checkpointEpoch(runDir);
  assert.ok(existsSync(join(runDir, 'checkpoints', 'last.previous')), 'the previous checkpoint is kept');
  truncateSync(join(runDir, 'checkpoints', 'last', 'tensors.bin'), 100);
  const fellBack = await runCli(['run', '--resume', runDir, '--force']);
  assert.is(fellBack.code, 0, fellBack.stderr);
  assert.match(fellBack.stderr, `${join(runDir, 'checkpoints', 'last', 'tensors.bin')} is truncated or damaged`);
  assert.match(fellBack.stderr, `resumed after epoch ${epochBefore - 1}`);

  // No checkpoint at all (killed before its first epoch ended).
  rmSync(join(runDir, 'checkpoints'), { recursive: true });
  rmSync(join(runDir, 'summary.json'));
  const none = await runCli(['run', '--resume', runDir]);
  assert.is(none.code, 2);
  assert.match(none.stderr, 'has no checkpoint');
});

test('--force with a changed config continues and records the new config hash on the MLflow run', async () => {
  const experiment = uniqueName('resume-force');
  const config = writeConfig(experiment);
  const runsDir = tempDir();
  await interruptAt(config, runsDir, experiment, 2, 'SIGINT');
  const runDir = runDirOf(runsDir, experiment);
  writeFileSync(config, readFileSync(config, 'utf8').replace('epochs: 5', 'epochs: 4'));
  const resumed = await runCli(['run', '--resume', runDir, '--force']);
  assert.is(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, 'continuing with the changed config');
  const run = (await client().getRun(readRunRecord(runDir)!.run_id!))!;
  const tags = Object.fromEntries(run.data.tags.map((t) => [t.key, t.value]));
  assert.match(tags['runner.resumed_config_hash'] ?? '', /^[0-9a-f]{64}$/);
  assert.is(JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')).epochs_completed, 4);
});

test.run();

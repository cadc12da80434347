import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { planSweep } from '../../../runner/sweep/plan.ts';
import { runCli } from '../../helpers/cli.ts';
import { fixture, tempDir } from '../../helpers/files.ts';
import { getTestServer, type TestServer, uniqueName } from '../../helpers/mlflow.ts';
import { mlflow, newSweep, readState, sweepFile, sweepRuns, tagOf, UNTIL_STOPPED, waitFor } from '../sweep/fixture.ts';

const ctx: { server?: TestServer } = {};
const uri = () => ctx.server!.uri;
/** Two steps per epoch: trials of a second or two. */
const TRAIN = '{epochs: 1, max_steps_per_epoch: 2, log_every_steps: 1}';

const test = suite('runner sweep');
test.before(async () => {
  ctx.server = await getTestServer();
});
test.after(async () => {
  await ctx.server?.stop();
});

test('--dry-run validates and lists every trial; runner run on a sweep file does the same; an invalid trial fails all', async () => {
  const dir = tempDir();
  const file = sweepFile(dir, {
    name: 'dry',
    uri: false,
    sweep: '  matrix:\n    optimizer.lr: [0.01, 0.001]\n    model.kernel_sizes: [[2], [3]]\n  max_parallel: 2',
  });
  const dry = await runCli(['sweep', file, '--dry-run', '--runs-dir', join(dir, 'runs')]);
  assert.is(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /optimizer\.lr\s+model\.kernel_sizes\s+config hash/);
  assert.is(dry.stdout.split('\n').filter((line) => /^\d\s+0\.0/.test(line)).length, 4);
  assert.match(dry.stdout, '4 trials, every resolved config valid.');
  const viaRun = await runCli(['run', file, '--dry-run', '--runs-dir', join(dir, 'runs')]);
  assert.is(viaRun.code, 0, viaRun.stderr);
  assert.is(viaRun.stdout, dry.stdout);

  const bad = sweepFile(dir, { name: 'dry', uri: false, file: 'bad.yaml', sweep: '  matrix:\n    optimizer.lr: [0.01, abc]' });
  const invalid = await runCli(['sweep', bad, '--runs-dir', join(dir, 'runs')]);
  assert.is(invalid.code, 2);
  assert.match(invalid.stderr, `${bad}:13:`);
  assert.match(invalid.stderr, 'trial 1 of the sweep');
  assert.not.match(invalid.stderr, /\n\s+at /);
});

test('runner --help lists sweep and watch; their --help works', async () => {
  const help = await runCli(['--help']);
  assert.match(help.stdout, /\n  sweep\s+Run every trial/);
  assert.match(help.stdout, /\n  watch\s+Run a config/);
  for (const command of ['sweep', 'watch']) {
    const result = await runCli([command, '--help']);
    assert.is(result.code, 0);
    assert.match(result.stdout, `Usage: runner ${command} <config.yaml>`);
  }
  const usage = await runCli(['sweep', 'a.yaml', 'b.yaml']);
  assert.is(usage.code, 2);
  assert.match(usage.stderr, 'runner sweep takes one config file, got 2');
});

test('fail_fast: the first failed trial cancels the rest (tracking off)', async () => {
  const dir = tempDir();
  const file = sweepFile(dir, {
    name: uniqueName('failfast'),
    uri: false,
    train: TRAIN,
    // An empty folder passes the static check; loading it fails (no train/ split), so trial 0 fails when it runs.
    sweep: `  matrix:\n    data.dataset.path: [${JSON.stringify(tempDir())}, ${JSON.stringify(fixture('sentences'))}]\n    seed: [1, 2]\n  fail_fast: true`,
  });
  const result = await runCli(['sweep', file, '--runs-dir', join(dir, 'runs')]);
  assert.is(result.code, 1, result.stderr);
  assert.match(result.stderr, 'fail_fast is on');
  assert.match(result.stderr, /trial 0 failed \(exit 2\): .*does not exist/);
  const plan = planSweep(file);
  const states = readState(join(dir, 'runs'), plan.name, plan.hash).trials.map((t) => t.state);
  assert.equal(states, ['failed', 'cancelled', 'cancelled', 'cancelled']);
});

test('4 trials, 2 at a time, nested under one parent; a trial killed mid-way is the only one run again, from its checkpoint; then all are skipped', async () => {
  const { runsDir, name, file } = newSweep('sweep4', {
    uri: uri(),
    train: TRAIN,
    sweep: `  matrix:
    optimizer.lr: [0.01, 0.02]
    model.kernel_sizes: [[2], [3]]
    include:
      - optimizer.lr: 0.02
        model.kernel_sizes: [3]
        train.epochs: 25
  metric: {name: test_accuracy, goal: maximize}
  max_parallel: 2`,
  });
  const plan = planSweep(file);

  // First run: trial 3 (25 epochs) is killed hard while it trains.
  let killed = 0;
  const first = await runCli(['sweep', file, '--runs-dir', runsDir], {
    onStart: () => {
      void waitFor('trial 3 to train', () => {
        const trial = readState(runsDir, name, plan.hash).trials[3]!;
        return trial.state === 'running' && (trial.epoch ?? 0) >= 2 && trial.pid ? trial.pid : undefined;
      }).then((pid) => {
        killed = pid;
        process.kill(pid, 'SIGKILL');
      });
    },
  });
  assert.ok(killed > 0, 'trial 3 was killed');
  assert.is(first.code, 1, first.stderr);
  assert.match(first.stderr, /trial 3 killed: its process was stopped from outside \(SIGKILL\)/);
  let runs = await sweepRuns(uri(), name);
  assert.is(runs.parents.length, 1);
  const parent = runs.parents[0]!;
  assert.is(tagOf(parent, 'runner.sweep_hash'), plan.hash);
  assert.is(parent.info.status, 'FAILED');
  assert.is(runs.children.length, 4);
  for (const child of runs.children) assert.is(tagOf(child, 'mlflow.parentRunId'), parent.info.run_id);
  const byTrial = (index: number) => runs.children.filter((c) => tagOf(c, 'runner.sweep_trial') === String(index));
  assert.equal(
    [0, 1, 2, 3].map((i) => byTrial(i).map((c) => c.info.status)),
    [['FINISHED'], ['FINISHED'], ['FINISHED'], ['KILLED']],
  );
  assert.equal(runs.children.map((c) => tagOf(c, 'runner.config_hash')).sort(), plan.trials.map((t) => t.hash).sort());
  // Parallel: two trials overlapped in time.
  const spans = runs.children.map((c) => [Number(c.info.start_time), Number(c.info.end_time)] as const);
  assert.ok(
    spans.some(([s1, e1], i) => spans.some(([s2], j) => i !== j && s2 >= s1 && s2 < e1)),
    'no two trials overlapped',
  );
  const client = mlflow(uri());
  const artifacts = (await client.listArtifacts(parent.info.run_id)).map((f) => f.path);
  for (const artifact of ['matrix.yaml', 'summary.md', 'summary.json'])
    assert.ok(artifacts.includes(artifact), `${artifact} missing: ${artifacts}`);

  // Resume: only trial 3 runs again, continued from its last checkpoint in the same run folder and MLflow run.
  const killedRun = byTrial(3)[0]!.info.run_id;
  const second = await runCli(['sweep', file, '--runs-dir', runsDir]);
  assert.is(second.code, 0, second.stderr);
  assert.match(second.stderr, '3 already finished (skipped), 1 interrupted (continued from their checkpoints), 1 to run');
  runs = await sweepRuns(uri(), name);
  assert.is(runs.parents.length, 1);
  assert.is(runs.parents[0]!.info.run_id, parent.info.run_id);
  assert.is(runs.parents[0]!.info.status, 'FINISHED');
  assert.is(runs.children.length, 4);
  assert.equal(
    byTrial(3).map((c) => [c.info.run_id, c.info.status]),
    [[killedRun, 'FINISHED']],
  );
  const trial3 = readState(runsDir, name, plan.hash).trials[3]!;
  const epochs = readFileSync(join(trial3.run_dir!, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { epoch: number; metrics: Record<string, number> })
    .filter((r) => 'epoch_time_s' in r.metrics)
    .map((r) => r.epoch);
  assert.equal(
    epochs,
    Array.from({ length: 25 }, (_, i) => i + 1),
    'every epoch once, across the kill',
  );
  const best = runs.parents[0]!.data.metrics.find((m) => m.key === 'best_test_accuracy');
  assert.ok(best && best.value > 0, 'best_test_accuracy logged');
  const bestTrial = tagOf(runs.parents[0]!, 'runner.best_trial');
  const summary = JSON.parse((await client.downloadArtifact(runs.parents[0]!.info.artifact_uri, 'summary.json')).toString('utf8')) as {
    status: string;
    best: { trial: number; value: number };
    trials: unknown[];
  };
  assert.equal(
    [summary.status, String(summary.best.trial), summary.best.value, summary.trials.length],
    ['FINISHED', bestTrial, best!.value, 4],
  );
  assert.match(second.stdout, /rank\s+#\s+trial\s+test_accuracy/);

  // Again: nothing to run.
  const third = await runCli(['sweep', file, '--runs-dir', runsDir]);
  assert.is(third.code, 0, third.stderr);
  assert.match(third.stderr, '4 already finished (skipped), 0 to run');
  runs = await sweepRuns(uri(), name);
  assert.equal([runs.parents.length, runs.children.length], [1, 4]);
  assert.is(
    readFileSync(join(runsDir, name, 'sweeps', plan.hash.slice(0, 12), 'summary.md'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('| done |')).length,
    4,
  );
});

test('--trial K from two processes at once (one through JOB_COMPLETION_INDEX): one parent, two children', async () => {
  const dir = tempDir();
  const name = uniqueName('distributed');
  const file = sweepFile(dir, { name, uri: uri(), train: TRAIN, sweep: '  matrix:\n    optimizer.lr: [0.01, 0.02]' });
  const [a, b] = await Promise.all([
    runCli(['sweep', file, '--trial', '0', '--runs-dir', join(dir, 'runs-a')]),
    runCli(['sweep', file, '--runs-dir', join(dir, 'runs-b')], { env: { JOB_COMPLETION_INDEX: '1' } }),
  ]);
  assert.is(a.code, 0, a.stderr);
  assert.is(b.code, 0, b.stderr);
  assert.match(a.stdout, /^trial 0 finished: test_accuracy/);
  assert.match(b.stdout, /^trial 1 finished: test_accuracy/);
  const runs = await sweepRuns(uri(), name);
  assert.is(runs.parents.length, 1, 'one parent');
  assert.is(runs.children.length, 2);
  for (const child of runs.children) {
    assert.is(tagOf(child, 'mlflow.parentRunId'), runs.parents[0]!.info.run_id);
    assert.is(child.info.status, 'FINISHED');
  }
  assert.equal(runs.children.map((c) => tagOf(c, 'runner.sweep_trial')).sort(), ['0', '1']);
  // The process that saw both trials end closed the parent.
  assert.is(runs.parents[0]!.info.status, 'FINISHED');
});

test('Ctrl-C stops every trial cleanly: children and parent end KILLED', async () => {
  const { runsDir, name, file } = newSweep('interrupt', {
    uri: uri(),
    train: UNTIL_STOPPED,
    sweep: '  matrix:\n    optimizer.lr: [0.01, 0.02]\n  max_parallel: 2',
  });
  const plan = planSweep(file);
  const result = await runCli(['sweep', file, '--runs-dir', runsDir], {
    onStart: (child) => {
      void waitFor(
        'both trials to train',
        () => readState(runsDir, name, plan.hash).trials.every((t) => t.state === 'running' && (t.epoch ?? 0) >= 1) || undefined,
      ).then(() => child.kill('SIGINT'));
    },
  });
  assert.is(result.code, 130, result.stderr);
  assert.match(result.stderr, 'stopping every trial');
  const runs = await sweepRuns(uri(), name);
  assert.is(runs.parents.length, 1);
  assert.is(runs.parents[0]!.info.status, 'KILLED');
  assert.equal(
    runs.children.map((c) => c.info.status),
    ['KILLED', 'KILLED'],
  );
  for (const trial of readState(runsDir, name, plan.hash).trials) assert.is(trial.state, 'killed');
});

test('a sweep process killed hard: its trial notices (stdin closes) and ends KILLED on its own', async () => {
  const { runsDir, name, file } = newSweep('orphan', {
    uri: uri(),
    train: UNTIL_STOPPED,
    sweep: '  matrix:\n    seed: [1]',
  });
  const plan = planSweep(file);
  let sweepPid = 0;
  const result = await runCli(['sweep', file, '--runs-dir', runsDir], {
    onStart: (child) => {
      sweepPid = child.pid!;
      void waitFor('the trial to train', () => ((readState(runsDir, name, plan.hash).trials[0]!.epoch ?? 0) >= 1 ? true : undefined)).then(
        () => child.kill('SIGKILL'),
      );
    },
  });
  assert.is(result.signal, 'SIGKILL');
  const child = await waitFor('the trial run to end', async () => {
    const { children } = await sweepRuns(uri(), name);
    return children.length === 1 && children[0]!.info.status !== 'RUNNING' ? children[0]! : undefined;
  });
  assert.is(child.info.status, 'KILLED');

  // Its parent stays RUNNING until runner sync, on the experiment folder, finds the sweep's process gone.
  const parentId = tagOf(child, 'mlflow.parentRunId')!;
  assert.is((await mlflow(uri()).getRun(parentId))!.info.status, 'RUNNING');
  const sweepDir = join(runsDir, name, 'sweeps', plan.hash.slice(0, 12));
  const synced = await runCli(['sync', join(runsDir, name)]);
  assert.is(synced.code, 0, synced.stderr);
  assert.match(synced.stdout, `closed  ${sweepDir}: process ${sweepPid} on ${hostname()}`);
  assert.match(synced.stdout, `so its parent run ${parentId} ended KILLED at `);
  const parent = (await mlflow(uri()).getRun(parentId))!;
  assert.is(parent.info.status, 'KILLED');
  assert.is(tagOf(parent, 'runner.sweep_status'), 'KILLED');
  const state = readState(runsDir, name, plan.hash);
  assert.is(state.status, 'KILLED');
  assert.is(state.trials[0]!.state, 'killed');
  assert.not.match((await runCli(['sync', sweepDir])).stdout, 'closed', 'closed once');
});

test('a sweep killed hard is reported when it runs again, which continues its parent and closes it at the end', async () => {
  const { runsDir, name, file } = newSweep('revive', { uri: uri(), train: TRAIN, sweep: '  matrix:\n    seed: [1, 2]' });
  const plan = planSweep(file);
  let sweepPid = 0;
  const first = await runCli(['sweep', file, '--runs-dir', runsDir], {
    onStart: (child) => {
      sweepPid = child.pid!;
      void waitFor('the parent run', () => readState(runsDir, name, plan.hash).parent_run_id ?? undefined).then(() =>
        child.kill('SIGKILL'),
      );
    },
  });
  assert.is(first.signal, 'SIGKILL');
  const parentId = readState(runsDir, name, plan.hash).parent_run_id!;

  const second = await runCli(['sweep', file, '--runs-dir', runsDir]);
  assert.is(second.code, 0, second.stderr);
  assert.match(second.stderr, `the last run of this sweep (process ${sweepPid} on ${hostname()}`);
  assert.match(second.stderr, `left its parent run ${parentId} RUNNING; this run continues it and closes it at the end`);
  const { parents } = await sweepRuns(uri(), name);
  assert.equal(
    parents.map((p) => [p.info.run_id, p.info.status]),
    [[parentId, 'FINISHED']],
  );
  const state = readState(runsDir, name, plan.hash);
  assert.is(state.status, 'FINISHED');
  assert.equal(
    state.trials.map((t) => t.state),
    ['finished', 'finished'],
  );
});

test.run();

import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli, type CliResult } from '../../helpers/cli.ts';
import { tempDir, writeTree } from '../../helpers/files.ts';
import { getTestServer, type TestServer, uniqueName } from '../../helpers/mlflow.ts';
import {
  experimentRuns,
  mlflow,
  newSweep,
  sweepFile,
  sweepRuns,
  tagOf,
  tinyExperimentYaml,
  UNTIL_STOPPED,
  waitFor,
} from '../sweep/fixture.ts';

const ctx: { server?: TestServer } = {};
const uri = () => ctx.server!.uri;

const test = suite('runner watch');
test.before(async () => {
  ctx.server = await getTestServer();
});
test.after(async () => {
  await ctx.server?.stop();
});

/** Starts `runner watch`; its stderr so far, and its end. */
function startWatch(args: string[]): { stderr: () => string; child: Promise<ChildProcess>; done: Promise<CliResult> } {
  let err = '';
  let resolveChild!: (child: ChildProcess) => void;
  const child = new Promise<ChildProcess>((resolve) => (resolveChild = resolve));
  const done = runCli(['watch', ...args, '--debounce', '150'], {
    onStart: (process) => {
      process.stderr!.on('data', (chunk) => (err += chunk));
      resolveChild(process);
    },
  });
  return { stderr: () => err, child, done };
}

/** Waits until the watch printed `text` `times` times (counted from the start). */
function printed(watch: { stderr: () => string }, text: string, times = 1): Promise<true> {
  return waitFor(`"${text}" x${times}`, () => (watch.stderr().split(text).length - 1 >= times ? true : undefined));
}

test('valid, invalid and no-op edits: only a changed config stops the run (KILLED) and starts a new one', async () => {
  const dir = tempDir();
  const name = uniqueName('watch');
  const config = (epochs: number, lr: string, extra = '') =>
    tinyExperimentYaml({ name, uri: uri(), lr, train: `{epochs: ${epochs}, max_steps_per_epoch: 1, log_every_steps: 1}` }) + extra;
  writeTree(dir, { 'x.yaml': config(5000, '0.01') });
  const file = join(dir, 'x.yaml');
  const watch = startWatch([file, '--runs-dir', join(dir, 'runs')]);
  const running = await waitFor('the first run in MLflow', async () => {
    const runs = await experimentRuns(uri(), name);
    return runs.length === 1 && runs[0]!.info.status === 'RUNNING' ? runs[0]! : undefined;
  });

  writeFileSync(file, config(5000, 'abc'));
  await printed(watch, 'the config is invalid; the current run keeps going');
  assert.match(watch.stderr(), `${file}:8:`);

  // Back to the running config, written differently: same resolved config.
  writeFileSync(file, config(5000, '1.0e-2', '# a comment\n'));
  await printed(watch, 'the resolved config is the same: nothing to do');
  let runs = await experimentRuns(uri(), name);
  assert.equal(
    runs.map((r) => [r.info.run_id, r.info.status]),
    [[running.info.run_id, 'RUNNING']],
  );

  writeFileSync(file, config(2, '0.01'));
  await printed(watch, 'train.epochs 5000 → 2; restarting the run');
  await printed(watch, 'run finished');
  runs = await experimentRuns(uri(), name);
  const byId = new Map(runs.map((r) => [r.info.run_id, r]));
  assert.is(runs.length, 2);
  assert.is(byId.get(running.info.run_id)!.info.status, 'KILLED');
  const second = runs.find((r) => r.info.run_id !== running.info.run_id)!;
  assert.is(second.info.status, 'FINISHED');
  assert.is(tagOf(second, 'runner.config_hash') === tagOf(running, 'runner.config_hash'), false);

  (await watch.child).kill('SIGINT');
  const result = await watch.done;
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stderr, 'watch: stopped');
  assert.equal((await experimentRuns(uri(), name)).length, 2);
});

test('a watched sweep re-runs only the trials whose config changed; an extended file is watched too', async () => {
  const dir = tempDir();
  const name = uniqueName('watch-sweep');
  sweepFile(dir, {
    name,
    uri: uri(),
    file: 'base.yaml',
    train: '{epochs: 1, max_steps_per_epoch: 2}',
    sweep: '  matrix:\n    optimizer.lr: [0.01, 0.02]\n  max_parallel: 2',
  });
  writeTree(dir, { 'child.yaml': 'extends: base.yaml\nseed: 5\n' });
  const watch = startWatch([join(dir, 'child.yaml'), '--runs-dir', join(dir, 'runs')]);
  await waitFor('two finished trials', async () =>
    (await sweepRuns(uri(), name)).children.filter((c) => c.info.status === 'FINISHED').length === 2 ? true : undefined,
  );
  assert.match(watch.stderr(), 'watching 2 files');

  // Edit the extended file: one trial's value changes, the other stays.
  const base = join(dir, 'base.yaml');
  writeFileSync(base, readFileSync(base, 'utf8').replace('[0.01, 0.02]', '[0.01, 0.03]'));
  await printed(watch, '1 trial new or changed, 1 gone, 1 unchanged; only new and changed trials run');
  const lr = (run: { data: { params: { key: string; value: string }[] } }) => run.data.params.find((p) => p.key === 'optimizer.lr')?.value;
  const runs = await waitFor('the changed trial', async () => {
    const { children } = await sweepRuns(uri(), name);
    return children.some((c) => lr(c) === '0.03' && c.info.status === 'FINISHED') ? children : undefined;
  });
  assert.equal(runs.map(lr).sort(), ['0.01', '0.02', '0.03']);
  assert.ok(runs.every((r) => r.info.status === 'FINISHED'));

  (await watch.child).kill('SIGINT');
  const result = await watch.done;
  assert.is(result.code, 0, result.stderr);
  const { parents } = await sweepRuns(uri(), name);
  assert.is(parents.length, 2, 'one parent per version of the sweep');
  assert.ok(
    parents.every((p) => p.info.status === 'FINISHED'),
    parents.map((p) => p.info.status).join(),
  );
});

test('a watch killed hard leaves its sweep parent RUNNING until runner sync finds its process gone', async () => {
  const { runsDir, name, file } = newSweep('watch-killed', {
    uri: uri(),
    train: UNTIL_STOPPED,
    sweep: '  matrix:\n    optimizer.lr: [0.01]',
  });
  const watch = startWatch([file, '--runs-dir', runsDir]);
  const child = await watch.child;
  const trial = await waitFor('the trial to train', async () => {
    const { children } = await sweepRuns(uri(), name);
    return children.length === 1 && children[0]!.info.status === 'RUNNING' ? children[0]! : undefined;
  });
  const parentId = tagOf(trial, 'mlflow.parentRunId')!;
  child.kill('SIGKILL');
  assert.is((await watch.done).signal, 'SIGKILL');
  await waitFor('the trial to end (its watch is gone)', async () =>
    (await mlflow(uri()).getRun(trial.info.run_id))!.info.status === 'KILLED' ? true : undefined,
  );
  assert.is((await mlflow(uri()).getRun(parentId))!.info.status, 'RUNNING');
  const synced = await runCli(['sync', join(runsDir, name)]);
  assert.is(synced.code, 0, synced.stderr);
  assert.match(synced.stdout, `process ${child.pid} on ${hostname()}`);
  assert.match(synced.stdout, `so its parent run ${parentId} ended KILLED at `);
  assert.is((await mlflow(uri()).getRun(parentId))!.info.status, 'KILLED');
});

test.run();

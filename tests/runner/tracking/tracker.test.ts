import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { UserError } from '../../../runner/errors.ts';
import { resolveConnection } from '../../../runner/tracking/auth.ts';
import { MlflowClient } from '../../../runner/tracking/client.ts';
import { readRunRecord } from '../../../runner/tracking/run-record.ts';
import { freePort, type MlflowServer, startMlflowServer } from '../../../runner/tracking/server.ts';
import { syncRunFolder } from '../../../runner/tracking/sync.ts';
import { acquireLocalServer, SERVER_REGISTRY_FILE } from '../../../runner/tracking/local-store.ts';
import { startUi } from '../../helpers/cli.ts';
import { createTracker, type CreateTrackerOptions } from '../../../runner/tracking/tracker.ts';
import { uniqueName } from '../../helpers/mlflow.ts';
import { type FaultProxy, startFaultProxy } from './fault-proxy.ts';
import { allText, assertHistoriesEqualFile, folderFiles, SIM_CONFIG, simulateRun } from './run-sim.ts';

// This file kills and restarts its server, so it always starts its own (a shared CI server cannot be killed).
const ctx: { server?: MlflowServer; storeDir?: string; tmp?: string } = {};
const client = (uri = ctx.server!.uri, env: NodeJS.ProcessEnv = {}) => new MlflowClient(resolveConnection(uri, env));

function tracker(runDir: string, overrides: Partial<CreateTrackerOptions> & { logs?: string[] } = {}) {
  const logs = overrides.logs ?? [];
  return createTracker({
    tracking: { uri: ctx.server!.uri },
    runDir,
    configName: 'sim',
    env: {},
    log: (line) => logs.push(line),
    flushIntervalMs: 100,
    ...overrides,
  });
}

const runDirFor = (name: string) => join(ctx.tmp!, 'runs', name, uniqueName('run'));

const test = suite('tracker against a real MLflow server');
test.before(async () => {
  ctx.tmp = mkdtempSync(join(tmpdir(), 'runner-tracker-test-'));
  ctx.storeDir = join(ctx.tmp, 'store');
  ctx.server = await startMlflowServer({ storeDir: ctx.storeDir });
});
let testStart = 0;
test.before.each(() => {
  testStart = Date.now();
});
test.after.each(() => {
  if (process.env.RUNNER_TEST_TIMINGS) process.stderr.write(` [${Date.now() - testStart} ms] `);
});
test.after(async () => {
  await ctx.server?.stop();
  if (ctx.tmp) rmSync(ctx.tmp, { recursive: true, force: true });
});

test('a run appears with its params, tags, full metric histories and artifacts', async () => {
  const experiment = uniqueName('tracked');
  const runDir = runDirFor(experiment);
  const logs: string[] = [];
  const t = tracker(runDir, { logs, tracking: { uri: ctx.server!.uri, experiment, tags: { team: 'nlp' } } });
  await t.start({
    runName: 'first',
    description: SIM_CONFIG.description,
    params: SIM_CONFIG,
    configHash: 'abc123',
    backend: 'tensorflow',
    device: 'cpu',
    tags: { purpose: 'test' },
  });
  assert.ok(t.runId, 'run created during start()');
  const { slowestMetricsCallMs } = await simulateRun(t, runDir, { steps: 120 });
  t.artifact(join(runDir, 'model'), 'best_model');
  const result = await t.finish('FINISHED');
  assert.is(result.synced, true, logs.join('\n'));
  assert.ok(slowestMetricsCallMs < 20, `metrics() never blocks (slowest ${slowestMetricsCallMs.toFixed(2)} ms)`);

  const c = client();
  const run = (await c.getRun(t.runId!))!;
  assert.is(run.info.status, 'FINISHED');
  assert.ok(Number(run.info.end_time) >= Number(run.info.start_time));
  const params = Object.fromEntries(run.data.params.map((p) => [p.key, p.value]));
  assert.is(params['optimizer.param_groups.0.lr_mult'], '2');
  assert.is(params['optimizer.param_groups.1.match'], 'dense_2*');
  assert.is(params['model.hidden.1'], '32');
  const tags = Object.fromEntries(run.data.tags.map((p) => [p.key, p.value]));
  assert.is(tags['mlflow.runName'], 'first');
  assert.is(tags['mlflow.note.content'], SIM_CONFIG.description);
  assert.is(tags['mlflow.source.type'], 'LOCAL');
  assert.is(tags['mlflow.source.name'], 'runner run sim');
  assert.ok(tags['mlflow.user']);
  assert.match(tags['mlflow.source.git.commit'] ?? '', /^[0-9a-f]{40}$/);
  assert.ok(tags['runner.git_dirty'] === 'true' || tags['runner.git_dirty'] === 'false');
  assert.is(tags['runner.config_hash'], 'abc123');
  assert.is(tags['runner.backend'], 'tensorflow');
  assert.is(tags['runner.device'], 'cpu');
  assert.ok(tags['runner.version']);
  assert.is(tags.team, 'nlp');
  assert.is(tags.purpose, 'test');
  await assertHistoriesEqualFile(c, t.runId!, runDir);
  const files = (await c.listArtifactFiles(t.runId!)).map((f) => f.path).sort();
  assert.equal(files, [...folderFiles(runDir), 'best_model/model.json', 'best_model/weights.bin'].sort());
  for (const f of ['config.yaml', 'vocab.txt', 'metrics.jsonl', 'model/model.json', 'summary.json']) assert.ok(files.includes(f), f);
  assert.is(
    (await c.downloadArtifact(run.info.artifact_uri, 'metrics.jsonl')).toString(),
    readFileSync(join(runDir, 'metrics.jsonl'), 'utf8'),
  );
  const record = readRunRecord(runDir)!;
  assert.is(record.run_id, t.runId);
  assert.is(record.status, 'FINISHED');
  assert.is(record.synced, true);
  assert.is(record.experiment, experiment);
});

test('the server killed mid-run and restarted on the same port and store: histories equal metrics.jsonl exactly', async () => {
  const runDir = runDirFor('killed-server');
  const logs: string[] = [];
  const t = tracker(runDir, { logs, tracking: { uri: ctx.server!.uri, experiment: 'killed-server' } });
  await t.start({ params: SIM_CONFIG });
  const port = ctx.server!.port;
  let restarting: Promise<MlflowServer> | undefined;
  const { slowestMetricsCallMs } = await simulateRun(t, runDir, {
    steps: 300,
    paceMs: 5,
    onStep: async (step) => {
      if (step === 100) {
        await ctx.server!.kill();
        assert.is(await client().health(), false, 'the server is down');
      }
      if (step === 200) restarting = startMlflowServer({ storeDir: ctx.storeDir!, port });
    },
  });
  ctx.server = await restarting!;
  assert.ok(slowestMetricsCallMs < 20, `metrics() never blocks, even with the server down (slowest ${slowestMetricsCallMs.toFixed(2)} ms)`);
  const result = await t.finish('FINISHED');
  assert.is(result.synced, true, logs.join('\n'));
  assert.ok(
    logs.some((l) => /Cannot reach MLflow/.test(l)),
    'said the server went away',
  );
  assert.ok(
    logs.some((l) => /answers again/.test(l)),
    'said it came back',
  );
  const points = await assertHistoriesEqualFile(client(), t.runId!, runDir);
  assert.ok(points > 1200, `${points} points`);
  assert.is((await client().getRun(t.runId!))!.info.status, 'FINISHED');
});

test('server down for the whole run: the run ends on disk and says to sync; sync uploads it exactly; sync twice sends nothing twice', async () => {
  const experiment = uniqueName('offline');
  const runDir = runDirFor(experiment);
  const logs: string[] = [];
  const deadUri = `http://127.0.0.1:${await freePort()}`;
  const t = tracker(runDir, { logs, tracking: { uri: deadUri, experiment }, startTimeoutMs: 500, flushTimeoutMs: 500 });
  const started = Date.now();
  await t.start({ params: SIM_CONFIG, description: 'offline run' });
  assert.ok(Date.now() - started < 3000, 'start() does not hang on a dead server');
  await simulateRun(t, runDir, { steps: 150 });
  const result = await t.finish('FINISHED');
  assert.is(result.synced, false);
  assert.ok(
    logs.some((l) => l.includes('runner sync')),
    logs.join('\n'),
  );
  const record = readRunRecord(runDir)!;
  assert.is(record.synced, false);
  assert.is(record.status, 'FINISHED');

  const first = await syncRunFolder(runDir, { uri: ctx.server!.uri, env: {} });
  assert.is(first.metrics.present, 0);
  assert.ok(first.metrics.uploaded > 600);
  assert.ok(first.artifacts.uploaded >= 6);
  const c = client();
  await assertHistoriesEqualFile(c, first.runId, runDir);
  const run = (await c.getRun(first.runId))!;
  assert.is(run.info.status, 'FINISHED');
  assert.is(Number(run.info.start_time), record.start_time);
  assert.is(Number(run.info.end_time), record.end_time);
  assert.is(run.data.tags.find((tag) => tag.key === 'mlflow.note.content')?.value, 'offline run');
  assert.equal((await c.listArtifactFiles(first.runId)).map((f) => f.path).sort(), folderFiles(runDir));

  const second = await syncRunFolder(runDir, { env: {} }); // goes where the first sync went (recorded)
  assert.is(second.runId, first.runId);
  assert.is(second.metrics.uploaded, 0);
  assert.is(second.metrics.present, first.metrics.uploaded);
  assert.is(second.artifacts.uploaded, 0);
  const experimentId = (await c.getExperimentByName(experiment))!.experiment_id;
  assert.is((await c.searchRuns({ experimentIds: [experimentId] })).length, 1, 'one run, not two');
  await assertHistoriesEqualFile(c, first.runId, runDir);
  assert.is(readRunRecord(runDir)!.synced, true);
});

test('drops, 503s and delays through a proxy: nothing missing, nothing duplicated, one run', async () => {
  const proxy: FaultProxy = await startFaultProxy(ctx.server!.uri);
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  proxy.plan = () => {
    const r = random();
    if (r < 0.15) return { kind: 'drop-after' };
    if (r < 0.25) return { kind: 'drop' };
    if (r < 0.4) return { kind: 'status', status: 503, retryAfter: '0.05' };
    if (r < 0.45) return { kind: 'status', status: 500, body: 'Internal Server Error', contentType: 'text/plain' };
    if (r < 0.55) return { kind: 'delay', ms: 150 };
    return { kind: 'pass' };
  };
  try {
    const experiment = uniqueName('faulty');
    const runDir = runDirFor(experiment);
    const logs: string[] = [];
    const t = tracker(runDir, { logs, tracking: { uri: proxy.uri, experiment }, flushTimeoutMs: 60_000 });
    await t.start({ params: SIM_CONFIG });
    await simulateRun(t, runDir, { steps: 200, paceMs: 2 });
    const result = await t.finish('FINISHED');
    assert.is(result.synced, true, logs.join('\n'));
    const faults = proxy.seen.filter((s) => s.fault !== 'pass').length;
    assert.ok(faults >= 5, `faults were injected (${faults} of ${proxy.seen.length})`);
    const c = client();
    await assertHistoriesEqualFile(c, t.runId!, runDir);
    const experimentId = (await c.getExperimentByName(experiment))!.experiment_id;
    assert.is((await c.searchRuns({ experimentIds: [experimentId] })).length, 1);
    assert.equal((await c.listArtifactFiles(t.runId!)).map((f) => f.path).sort(), folderFiles(runDir));
    assert.is((await c.getRun(t.runId!))!.info.status, 'FINISHED');
  } finally {
    await proxy.close();
  }
});

test("finish('KILLED') (Ctrl-C) keeps the metrics so far; finish('FAILED') records the error", async () => {
  const runDir = runDirFor('ended-early');
  const t = tracker(runDir, { tracking: { uri: ctx.server!.uri, experiment: 'ended-early' } });
  await t.start({ params: SIM_CONFIG });
  await simulateRun(t, runDir, { steps: 40 });
  assert.is((await t.finish('KILLED')).synced, true);
  const c = client();
  const killed = (await c.getRun(t.runId!))!;
  assert.is(killed.info.status, 'KILLED');
  assert.ok(killed.info.end_time);
  await assertHistoriesEqualFile(c, t.runId!, runDir);

  const failedDir = runDirFor('ended-early');
  const f = tracker(failedDir, { tracking: { uri: ctx.server!.uri, experiment: 'ended-early' } });
  await f.start({ params: SIM_CONFIG });
  await simulateRun(f, failedDir, { steps: 10 });
  await f.finish('FAILED', new Error('loss became NaN at step 7'));
  const failed = (await c.getRun(f.runId!))!;
  assert.is(failed.info.status, 'FAILED');
  assert.is(failed.data.tags.find((tag) => tag.key === 'runner.error')?.value, 'Error: loss became NaN at step 7');
  assert.is(readRunRecord(failedDir)!.error, 'Error: loss became NaN at step 7');
});

test('credentials appear nowhere: not in params, tags, artifacts, run folder files or logs', async () => {
  const token = 'tok-Zq8-very-secret-4711';
  const password = 'pw-Hk2-very-secret-0815';
  for (const env of [
    { MLFLOW_TRACKING_TOKEN: token } as NodeJS.ProcessEnv,
    { MLFLOW_TRACKING_USERNAME: 'ann', MLFLOW_TRACKING_PASSWORD: password } as NodeJS.ProcessEnv,
  ]) {
    const header = env.MLFLOW_TRACKING_TOKEN ? `Bearer ${token}` : `Basic ${Buffer.from(`ann:${password}`).toString('base64')}`;
    const secrets = [token, password, Buffer.from(`ann:${password}`).toString('base64')];
    const proxy = await startFaultProxy(ctx.server!.uri, { requireAuth: header });
    // A few faults so that error and retry messages get logged too.
    proxy.plan = ({ index }) => (index % 7 === 3 ? { kind: 'status', status: 503 } : { kind: 'pass' });
    const logs: string[] = [];
    try {
      const experiment = uniqueName('secret');
      const runDir = runDirFor(experiment);
      const fullEnv = { ...env, MLFLOW_TRACKING_URI: proxy.uri, MLFLOW_EXPERIMENT_NAME: experiment };
      const t = tracker(runDir, { logs, env: fullEnv, tracking: {} });
      await t.start({ params: { ...SIM_CONFIG, env_like: 'MLFLOW_TRACKING_TOKEN' }, tags: { x: 'y' } });
      await simulateRun(t, runDir, { steps: 30 });
      assert.is((await t.finish('FINISHED')).synced, true, logs.join('\n'));
      const report = await syncRunFolder(runDir, { env: fullEnv, log: (l) => logs.push(l) });
      assert.is(report.metrics.uploaded, 0);
      // A wrong credential: start() refuses with a UserError that does not echo it.
      const wrongEnv = env.MLFLOW_TRACKING_TOKEN
        ? { ...fullEnv, MLFLOW_TRACKING_TOKEN: `${token}-x` }
        : { ...fullEnv, MLFLOW_TRACKING_PASSWORD: `${password}-x` };
      const wrong = tracker(runDirFor(experiment), { logs, env: wrongEnv, tracking: {} });
      try {
        await wrong.start({});
        assert.unreachable('a refused credential stops start()');
      } catch (error) {
        assert.instance(error, UserError);
        assert.match((error as Error).message, /401/);
        logs.push((error as Error).message);
      }
      await wrong.finish('FAILED');

      const c = client(proxy.uri, env);
      const run = (await c.getRun(t.runId!))!;
      const haystack = [
        JSON.stringify(run),
        ...(await c.listArtifactFiles(t.runId!)).map((f) => f.path),
        ...(await Promise.all(
          (await c.listArtifactFiles(t.runId!)).map((f) =>
            c.downloadArtifact(run.info.artifact_uri, f.path).then((b) => b.toString('latin1')),
          ),
        )),
        allText(join(ctx.tmp!, 'runs', experiment)),
        logs.join('\n'),
      ].join('\n');
      for (const secret of secrets) assert.not.ok(haystack.includes(secret), `a secret leaked (${secret.slice(0, 6)}...)`);
      assert.ok(
        proxy.seen.some((s) => s.fault === 'status'),
        'faults happened',
      );
    } finally {
      await proxy.close();
    }
  }
});

test('a deleted experiment stops start() with a UserError before training', async () => {
  const experiment = uniqueName('gone');
  const c = client();
  const { experiment_id } = await c.getOrCreateExperiment(experiment);
  await fetch(`${ctx.server!.uri}/api/2.0/mlflow/experiments/delete`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ experiment_id }),
  });
  const t = tracker(runDirFor(experiment), { tracking: { uri: ctx.server!.uri, experiment } });
  try {
    await t.start({});
    assert.unreachable();
  } catch (error) {
    assert.instance(error, UserError);
    assert.match((error as Error).message, /is deleted/);
  }
});

test('tracking: false does nothing at all', async () => {
  const runDir = runDirFor('disabled');
  const t = tracker(runDir, { tracking: false });
  assert.is(t.enabled, false);
  await t.start({ params: SIM_CONFIG });
  await simulateRun(t, runDir, { steps: 5 });
  assert.is((await t.finish('FINISHED')).synced, false);
  assert.not.ok(existsSync(join(runDir, 'tracking.json')));
});

test('no URI anywhere: the embedded local store under runs/mlflow, its server started (and restarted after a crash) and stopped by the tracker', async () => {
  const runDir = runDirFor('embedded');
  const storeDir = join(ctx.tmp!, 'runs', 'mlflow');
  const logs: string[] = [];
  const t = tracker(runDir, { logs, tracking: undefined, env: {} });
  await t.start({ params: SIM_CONFIG });
  const uri = new URL(t.runUrl!).origin;
  assert.match(uri, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(existsSync(join(storeDir, 'mlflow.db')), 'the store is runs/mlflow');
  // The local server dies mid-run: the tracker starts it again (on a new port) and sends the backlog.
  await simulateRun(t, runDir, {
    steps: 200,
    paceMs: 2,
    onStep: async (step) => {
      if (step !== 50) return;
      const lease = await acquireLocalServer(storeDir); // the same, shared server
      assert.is(lease.server.uri, uri);
      await lease.server.kill();
      await lease.release();
    },
  });
  for (let i = 0; i < 100 && !logs.some((l) => /restarting it/.test(l)); i++) await new Promise((r) => setTimeout(r, 100));
  const result = await t.finish('FINISHED');
  assert.is(result.synced, true, logs.join('\n'));
  assert.ok(
    logs.some((l) => /stopped unexpectedly.*restarting it/.test(l)),
    logs.join('\n'),
  );
  assert.is(await client(uri).health(), false, 'the local server is stopped after the run');
  const record = readRunRecord(runDir)!;
  assert.equal(record.target, { kind: 'local', store: '../../mlflow' });
  const stored = join(storeDir, 'artifacts', record.experiment_id!, t.runId!, 'artifacts');
  for (const f of folderFiles(runDir)) assert.ok(existsSync(join(stored, f)), `artifact ${f} in the local store`);
  // runner sync finds the local store again by itself (a server is started for it), and has nothing to add.
  const lease = await acquireLocalServer(storeDir); // shared with the sync below, kept to read the run back
  try {
    const again = await syncRunFolder(runDir, { env: {}, log: (l) => logs.push(l) });
    assert.is(again.runId, t.runId);
    assert.is(again.metrics.uploaded, 0);
    assert.ok(again.metrics.present > 0);
    assert.is(again.artifacts.uploaded, 0);
    await assertHistoriesEqualFile(client(lease.server.uri), t.runId!, runDir);
  } finally {
    await lease.release();
  }
});

test('a `runner ui` on the store: its server is joined as is (no start-up of its own) and left running after the run', async () => {
  const storeDir = join(ctx.tmp!, 'ui-store');
  const ui = startUi(storeDir, await freePort());
  const uri = await ui.uri;
  if (!uri) throw new Error(`runner ui ended: ${(await ui.done).stderr}`);
  try {
    const runDir = runDirFor('with-ui');
    const logs: string[] = [];
    const t = tracker(runDir, { logs, tracking: undefined, env: {}, storeDir });
    const started = Date.now();
    await t.start({ params: SIM_CONFIG });
    assert.ok(Date.now() - started < 4000, `start() took ${Date.now() - started} ms`);
    assert.is(new URL(t.runUrl!).origin, uri);
    assert.ok(
      logs.some((l) => l.includes('using the MLflow server already serving this store')),
      logs.join('\n'),
    );
    await simulateRun(t, runDir, { steps: 30 });
    assert.is((await t.finish('FINISHED')).synced, true, logs.join('\n'));
    assert.is(await client(uri).health(), true, 'the UI server keeps running');
    await assertHistoriesEqualFile(client(uri), t.runId!, runDir);
  } finally {
    ui.stop();
  }
  assert.is((await ui.done).code, 0);
  assert.is(await client(uri).health(), false, 'runner ui, its last user, stopped it');
  assert.not.ok(existsSync(join(storeDir, SERVER_REGISTRY_FILE)));
});

test("a local server that cannot start: training goes on, and the message quotes the end of that start's log", async () => {
  const storeDir = join(ctx.tmp!, 'broken-store');
  mkdirSync(storeDir, { recursive: true });
  writeFileSync(join(storeDir, 'mlflow.db'), 'not a SQLite database\n'.repeat(100));
  const runDir = runDirFor('broken-store');
  const logs: string[] = [];
  const t = tracker(runDir, { logs, tracking: undefined, env: {}, storeDir });
  await t.start({ params: SIM_CONFIG });
  await simulateRun(t, runDir, { steps: 5 });
  assert.is((await t.finish('FINISHED')).synced, false);
  const said = logs.findIndex((l) => l.startsWith('the local MLflow server did not start (mlflow server exited'));
  assert.ok(said >= 0, logs.join('\n'));
  assert.match(logs[said]!, /The last lines of its log \(.*server\.log\):\)\. Training goes on/);
  const tail = logs.slice(said + 1).filter((l) => l.startsWith('  '));
  assert.ok(tail.length > 0 && tail.some((l) => /\w/.test(l)), `the log's last lines follow: ${logs.join('\n')}`);
  assert.ok(
    logs.some((l) => /runner sync /.test(l)),
    logs.join('\n'),
  );
});

test('MLflow not installed: the run completes on disk, says how to install it, and sync uploads it later', async () => {
  const previous = process.env.RUNNER_MLFLOW;
  process.env.RUNNER_MLFLOW = join(ctx.tmp!, 'no-such-mlflow');
  const runDir = runDirFor('no-mlflow');
  const logs: string[] = [];
  try {
    const t = tracker(runDir, { logs, tracking: { experiment: 'no-mlflow' }, env: {}, storeDir: join(ctx.tmp!, 'other-store') });
    await t.start({ params: SIM_CONFIG });
    await simulateRun(t, runDir, { steps: 20 });
    const result = await t.finish('FINISHED');
    assert.is(result.synced, false);
    const text = logs.join('\n');
    assert.match(text, /MLflow is not installed/);
    assert.match(text, /setup:mlflow/);
    assert.match(text, /runner sync /);
  } finally {
    if (previous === undefined) delete process.env.RUNNER_MLFLOW;
    else process.env.RUNNER_MLFLOW = previous;
  }
  const report = await syncRunFolder(runDir, { uri: ctx.server!.uri, env: {} });
  await assertHistoriesEqualFile(client(), report.runId, runDir);
});

test.run();

import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { UserError } from '../../../runner/errors.ts';
import { resolveConnection } from '../../../runner/tracking/auth.ts';
import { MlflowClient, MlflowError } from '../../../runner/tracking/client.ts';
import { TAGS } from '../../../runner/tracking/tags.ts';
import { freePort } from '../../../runner/tracking/server.ts';
import type { Metric } from '../../../runner/tracking/limits.ts';
import { getTestServer, type TestServer, uniqueName } from '../../helpers/mlflow.ts';
import { type FaultProxy, startFaultProxy } from './fault-proxy.ts';

const ctx: { server?: TestServer; proxy?: FaultProxy; tmp?: string } = {};
const client = (uri = ctx.server!.uri, env: NodeJS.ProcessEnv = {}, options: ConstructorParameters<typeof MlflowClient>[1] = {}) =>
  new MlflowClient(resolveConnection(uri, env), { retry: { retries: 4, baseDelayMs: 50, maxDelayMs: 200 }, ...options });

const test = suite('MlflowClient against a real MLflow server');
test.before(async () => {
  ctx.server = await getTestServer();
  ctx.proxy = await startFaultProxy(ctx.server.uri);
  ctx.tmp = mkdtempSync(join(tmpdir(), 'runner-client-test-'));
});
test.after(async () => {
  await ctx.proxy?.close();
  await ctx.server?.stop();
  if (ctx.tmp) rmSync(ctx.tmp, { recursive: true, force: true });
});
test.before.each(() => {
  ctx.proxy!.plan = () => ({ kind: 'pass' });
  ctx.proxy!.seen.length = 0;
});

async function newRun(c: MlflowClient, name = uniqueName('client')) {
  const experiment = await c.getOrCreateExperiment(name);
  const run = await c.createRun({
    experimentId: experiment.experiment_id,
    runName: 'r1',
    startTime: Date.now(),
    clientKey: uniqueName('key'),
  });
  return { experiment, run };
}

const sortByStep = (ms: Metric[]) => [...ms].sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);

test('experiments: created once, found again, concurrent creation converges on one id', async () => {
  const c = client();
  const name = uniqueName('exp');
  assert.is(await c.getExperimentByName(name), undefined);
  const ids = await Promise.all([1, 2, 3].map(() => c.getOrCreateExperiment(name).then((e) => e.experiment_id)));
  assert.is(new Set(ids).size, 1);
  assert.is((await c.getExperimentByName(name))?.experiment_id, ids[0]);
});

test('a deleted experiment is a clear UserError, not a silent new one', async () => {
  const c = client();
  const name = uniqueName('deleted');
  const { experiment_id } = await c.getOrCreateExperiment(name);
  const res = await fetch(`${ctx.server!.uri}/api/2.0/mlflow/experiments/delete`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ experiment_id }),
  });
  assert.ok(res.ok);
  try {
    await c.getOrCreateExperiment(name);
    assert.unreachable('should have thrown');
  } catch (error) {
    assert.instance(error, UserError);
    assert.match((error as Error).message, /deleted/);
    assert.match((error as Error).message, /restore/i);
  }
});

test('params, tags and full metric histories read back exactly (chunked over the server limits; NaN and ±Inf)', async () => {
  const c = client();
  const { run } = await newRun(c);
  const runId = run.info.run_id;
  const params = Array.from({ length: 150 }, (_, i) => ({ key: `group.${i}.lr_mult`, value: String(i / 10) }));
  const tags = Array.from({ length: 120 }, (_, i) => ({ key: `tag_${i}`, value: `v${i}` }));
  const specials = [NaN, Infinity, -Infinity];
  const metrics: Metric[] = [];
  for (let step = 0; step < 1300; step++) {
    metrics.push({ key: 'train_loss', value: 1 / (step + 1), timestamp: 1_700_000_000_000 + step, step });
    metrics.push({ key: 'lr/default', value: step < 3 ? specials[step]! : 0.001 * step, timestamp: 1_700_000_000_000 + step, step });
  }
  await c.logBatch(runId, { params, tags, metrics });
  const back = await c.getRun(runId);
  assert.ok(back);
  const paramMap = new Map(back.data.params.map((p) => [p.key, p.value]));
  for (const p of params) assert.is(paramMap.get(p.key), p.value);
  const tagMap = new Map(back.data.tags.map((t) => [t.key, t.value]));
  for (const t of tags) assert.is(tagMap.get(t.key), t.value);
  assert.is(tagMap.get(TAGS.clientKey) !== undefined, true);
  for (const key of ['train_loss', 'lr/default']) {
    const history = sortByStep(await c.getMetricHistory(runId, key));
    const expected = metrics.filter((m) => m.key === key);
    assert.is(history.length, expected.length, key);
    // Object.is semantics of uvu's equal treat NaN as NaN
    assert.equal(history, expected, key);
  }
  // log-batch went out in several requests, none over the limits
  const batches = ctx.proxy!.seen.length; // nothing went through the proxy here
  assert.is(batches, 0);
});

test('the server really enforces the limits: 101 params in one request is refused, and not retried', async () => {
  const c = client(ctx.proxy!.uri);
  const { run } = await newRun(c);
  const params = Array.from({ length: 101 }, (_, i) => ({ key: `p${i}`, value: 'v' }));
  try {
    await c.logBatchChunk(run.info.run_id, { params, metrics: [], tags: [] });
    assert.unreachable('should have been refused');
  } catch (error) {
    assert.instance(error, MlflowError);
    assert.is((error as MlflowError).status, 400);
    assert.is((error as MlflowError).errorCode, 'INVALID_PARAMETER_VALUE');
  }
  assert.is(ctx.proxy!.forwarded('POST', 'runs/log-batch'), 1);
  await c.logBatch(run.info.run_id, { params });
  assert.is((await c.getRun(run.info.run_id))!.data.params.length, 101);
});

test('status, end time and run name update', async () => {
  const c = client();
  const { run } = await newRun(c);
  const end = Date.now();
  await c.updateRun(run.info.run_id, { status: 'FINISHED', endTime: end, runName: 'renamed' });
  await c.setTag(run.info.run_id, 'k', 'v1');
  await c.setTag(run.info.run_id, 'k', 'v2');
  const back = (await c.getRun(run.info.run_id))!;
  assert.is(back.info.status, 'FINISHED');
  assert.is(Number(back.info.end_time), end);
  assert.is(back.info.run_name, 'renamed');
  assert.is(back.data.tags.find((t) => t.key === 'k')?.value, 'v2');
  assert.is(await c.getRun('0123456789abcdef0123456789abcdef'), undefined);
});

test('deleteRun moves a run to the trash: gone from active searches', async () => {
  const c = client();
  const { experiment, run } = await newRun(c);
  await c.deleteRun(run.info.run_id);
  assert.is((await c.getRun(run.info.run_id))?.info.lifecycle_stage, 'deleted');
  assert.equal(await c.searchRuns({ experimentIds: [experiment.experiment_id], viewType: 'ACTIVE_ONLY' }), []);
});

test('search pages through every result', async () => {
  const c = client();
  const experiment = await c.getOrCreateExperiment(uniqueName('search'));
  for (let i = 0; i < 5; i++)
    await c.createRun({ experimentId: experiment.experiment_id, runName: `r${i}`, startTime: Date.now(), clientKey: `k${i}` });
  const runs = await c.searchRuns({ experimentIds: [experiment.experiment_id], maxResults: 2 });
  assert.is(runs.length, 5);
  const one = await c.searchRuns({ experimentIds: [experiment.experiment_id], filter: `tags.\`${TAGS.clientKey}\` = 'k3'` });
  assert.is(one.length, 1);
  assert.is(one[0]!.info.run_name, 'r3');
});

test('artifacts: files with spaces, unicode and nesting go up through the proxy and come back byte for byte', async () => {
  const c = client();
  const { run } = await newRun(c);
  const dir = join(ctx.tmp!, 'art');
  mkdirSync(join(dir, 'model'), { recursive: true });
  const weights = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 256));
  writeFileSync(join(dir, 'model', 'group1-shard1of1.bin'), weights);
  writeFileSync(join(dir, 'notes ü + 1.txt'), 'héllo\n');
  await c.uploadArtifact(run.info.artifact_uri, join(dir, 'model', 'group1-shard1of1.bin'), 'model/group1-shard1of1.bin');
  await c.uploadArtifact(run.info.artifact_uri, join(dir, 'notes ü + 1.txt'), 'docs/notes ü + 1.txt');
  const files = await c.listArtifactFiles(run.info.run_id);
  assert.equal(files.map((f) => [f.path, f.file_size]).sort(), [
    ['docs/notes ü + 1.txt', Buffer.byteLength('héllo\n')],
    ['model/group1-shard1of1.bin', weights.length],
  ]);
  assert.ok((await c.downloadArtifact(run.info.artifact_uri, 'model/group1-shard1of1.bin')).equals(weights));
  assert.is(
    (await c.downloadArtifact(run.info.artifact_uri, 'docs/notes ü + 1.txt')).toString(),
    readFileSync(join(dir, 'notes ü + 1.txt'), 'utf8'),
  );
  for (const bad of ['a/../b.txt', 'x#1.txt']) {
    try {
      await c.uploadArtifact(run.info.artifact_uri, join(dir, 'notes ü + 1.txt'), bad);
      assert.unreachable(bad);
    } catch (error) {
      assert.is((error as MlflowError).errorCode, 'INVALID_ARTIFACT_PATH', bad);
    }
  }
});

test('run creation is safe to retry: a create whose answer is lost is found by its client key, not repeated', async () => {
  const c = client(ctx.proxy!.uri);
  const experiment = await c.getOrCreateExperiment(uniqueName('retry-create'));
  let creates = 0;
  ctx.proxy!.plan = ({ path }) => (path.includes('runs/create') && creates++ === 0 ? { kind: 'drop-after' } : { kind: 'pass' });
  const key = uniqueName('key');
  const run = await c.createRun({ experimentId: experiment.experiment_id, runName: 'once', startTime: Date.now(), clientKey: key });
  assert.is(ctx.proxy!.forwarded('POST', 'runs/create'), 1, 'the server saw exactly one create');
  const all = await client().searchRuns({ experimentIds: [experiment.experiment_id] });
  assert.is(all.length, 1);
  assert.is(all[0]!.info.run_id, run.info.run_id);
});

test('503 with Retry-After is retried after the given delay; dropped connections are retried', async () => {
  const c = client(ctx.proxy!.uri);
  const { run } = await newRun(client());
  ctx.proxy!.plan = ({ index }) =>
    index === 0
      ? { kind: 'status', status: 503, retryAfter: '0.4' }
      : index === 1
        ? { kind: 'drop' }
        : index === 2
          ? { kind: 'status', status: 429, retryAfter: '0.3' }
          : { kind: 'pass' };
  const started = Date.now();
  await c.setTag(run.info.run_id, 'after', 'faults');
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 650, `Retry-After honoured (${elapsed} ms)`);
  assert.is(ctx.proxy!.seen.length, 4);
  assert.is((await client().getRun(run.info.run_id))!.data.tags.find((t) => t.key === 'after')?.value, 'faults');
});

test('a slow answer past the timeout is retried; gives up after the retries with a clear error', async () => {
  const { run } = await newRun(client());
  const c = client(ctx.proxy!.uri, {}, { timeoutMs: 300, retry: { retries: 2, baseDelayMs: 10, maxDelayMs: 20 } });
  ctx.proxy!.plan = ({ index }) => (index === 0 ? { kind: 'delay', ms: 1000 } : { kind: 'pass' });
  await c.setTag(run.info.run_id, 'slow', 'ok');
  assert.is(ctx.proxy!.seen.length, 2);
  ctx.proxy!.plan = () => ({ kind: 'status', status: 502, body: '<html>Bad Gateway</html>', contentType: 'text/html' });
  ctx.proxy!.seen.length = 0;
  try {
    await c.setTag(run.info.run_id, 'never', 'x');
    assert.unreachable();
  } catch (error) {
    assert.instance(error, MlflowError);
    assert.is((error as MlflowError).status, 502);
    assert.match((error as Error).message, /Bad Gateway/);
  }
  assert.is(ctx.proxy!.seen.length, 3, 'one try and two retries');
});

test('4xx is not retried; the message carries error_code and message; plain-text bodies are handled', async () => {
  const c = client(ctx.proxy!.uri);
  ctx.proxy!.plan = () => ({
    kind: 'status',
    status: 400,
    body: JSON.stringify({ error_code: 'INVALID_PARAMETER_VALUE', message: 'bad thing' }),
  });
  try {
    await c.setTag('x', 'k', 'v');
    assert.unreachable();
  } catch (error) {
    assert.match((error as Error).message, /HTTP 400 INVALID_PARAMETER_VALUE: bad thing/);
    assert.is((error as MlflowError).retryable, false);
  }
  assert.is(ctx.proxy!.seen.length, 1);
  ctx.proxy!.seen.length = 0;
  ctx.proxy!.plan = () => ({ kind: 'status', status: 404, body: '404 page not found\n', contentType: 'text/plain' });
  try {
    await c.setTag('x', 'k', 'v');
    assert.unreachable();
  } catch (error) {
    assert.match((error as Error).message, /HTTP 404 HTTP_404: 404 page not found/);
  }
  assert.is(ctx.proxy!.seen.length, 1);
});

test('unreachable server: connection errors are retried, then a clear UNREACHABLE error', async () => {
  const port = await freePort();
  const retries: number[] = [];
  const c2 = new MlflowClient(resolveConnection(`http://127.0.0.1:${port}`, {}), {
    retry: { retries: 2, baseDelayMs: 10, maxDelayMs: 20 },
    onRetry: (e) => retries.push(e.attempt),
  });
  try {
    await c2.getRun('x');
    assert.unreachable();
  } catch (error) {
    assert.instance(error, MlflowError);
    assert.is((error as MlflowError).errorCode, 'UNREACHABLE');
    assert.match((error as Error).message, `Cannot reach MLflow at http://127.0.0.1:${port} (ECONNREFUSED)`);
  }
  assert.equal(retries, [1, 2]);
});

test('auth: Bearer and Basic headers are sent; a 401 says which variables to set', async () => {
  const secured = await startFaultProxy(ctx.server!.uri, { requireAuth: 'Bearer tok-123' });
  try {
    try {
      await client(secured.uri).getExperimentByName('x');
      assert.unreachable();
    } catch (error) {
      assert.is((error as MlflowError).status, 401);
      assert.match((error as Error).message, /MLFLOW_TRACKING_TOKEN/);
    }
    assert.is(await client(secured.uri, { MLFLOW_TRACKING_TOKEN: 'tok-123' }).getExperimentByName(uniqueName('none')), undefined);
  } finally {
    await secured.close();
  }
  const basic = `Basic ${Buffer.from('ann:pw').toString('base64')}`;
  const securedBasic = await startFaultProxy(ctx.server!.uri, { requireAuth: basic });
  try {
    const c = client(securedBasic.uri, { MLFLOW_TRACKING_USERNAME: 'ann', MLFLOW_TRACKING_PASSWORD: 'pw' });
    await c.getOrCreateExperiment(uniqueName('basic'));
    assert.ok(securedBasic.seen.every((s) => s.authorization === basic));
  } finally {
    await securedBasic.close();
  }
});

test('health', async () => {
  assert.is(await client().health(), true);
  assert.is(await client(`http://127.0.0.1:${await freePort()}`).health(), false);
});

test.run();

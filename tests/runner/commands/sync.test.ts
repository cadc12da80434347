import { spawn } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { command } from '../../../runner/commands/sync.ts';
import { UserError } from '../../../runner/errors.ts';
import { resolveConnection } from '../../../runner/tracking/auth.ts';
import { MlflowClient } from '../../../runner/tracking/client.ts';
import { readRunRecord, writeRunRecord } from '../../../runner/tracking/run-record.ts';
import { createTracker } from '../../../runner/tracking/tracker.ts';
import { interruptAfterMetrics, runCli } from '../../helpers/cli.ts';
import { getTestServer, type TestServer, uniqueName } from '../../helpers/mlflow.ts';
import { assertHistoriesEqualFile, folderFiles, simulateRun } from '../tracking/run-sim.ts';

const ctx: { server?: TestServer; tmp?: string } = {};
const client = () => new MlflowClient(resolveConnection(ctx.server!.uri, {}));

/** Runs `runner sync` with these arguments; returns its exit code and what it printed on stdout. */
async function sync(...argv: string[]): Promise<{ code: number; out: string }> {
  const write = process.stdout.write.bind(process.stdout);
  const errWrite = process.stderr.write.bind(process.stderr);
  let out = '';
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    return { code: await command.run(argv), out };
  } finally {
    process.stdout.write = write;
    process.stderr.write = errWrite;
  }
}

/** A run folder written with tracking off (so it has no tracking.json): runs/<experiment>/<run>. */
async function offlineRunDir(experiment: string, steps = 60): Promise<string> {
  const runDir = join(ctx.tmp!, 'runs', experiment, uniqueName('run'));
  const tracker = createTracker({ tracking: false, runDir, configName: 'sim' });
  await simulateRun(tracker, runDir, { steps });
  writeFileSync(join(runDir, 'config.yaml'), `name: sim\ndescription: synced later\noptimizer:\n  param_groups:\n    - lr_mult: 2\n`);
  return runDir;
}

const test = suite('runner sync');
test.before(async () => {
  ctx.server = await getTestServer();
  ctx.tmp = mkdtempSync(join(tmpdir(), 'runner-sync-test-'));
});
test.after(async () => {
  await ctx.server?.stop();
  if (ctx.tmp) rmSync(ctx.tmp, { recursive: true, force: true });
});

test('uploads a run folder that was never tracked; twice creates nothing twice', async () => {
  const experiment = uniqueName('never-tracked');
  const runDir = await offlineRunDir(experiment);
  const first = await sync(runDir, '--uri', ctx.server!.uri);
  assert.is(first.code, 0);
  assert.match(
    first.out,
    /^synced {2}.* -> http:\/\/.*#\/experiments\/\d+\/runs\/[0-9a-f]{32} \(finished; metrics: \d+ sent, 0 already there; files: 6 sent, 0 unchanged\)\n$/,
  );
  const record = readRunRecord(runDir)!;
  assert.ok(record.run_id);
  assert.is(record.synced, true);
  const c = client();
  await assertHistoriesEqualFile(c, record.run_id, runDir);
  const run = (await c.getRun(record.run_id))!;
  assert.is(run.info.status, 'FINISHED');
  assert.is(run.data.params.find((p) => p.key === 'optimizer.param_groups.0.lr_mult')?.value, '2');
  assert.is(run.data.tags.find((t) => t.key === 'mlflow.note.content')?.value, 'synced later');
  assert.equal((await c.listArtifactFiles(record.run_id)).map((f) => f.path).sort(), folderFiles(runDir));

  const second = await sync(runDir);
  assert.is(second.code, 0);
  assert.match(second.out, /metrics: 0 sent, \d+ already there; files: 0 sent, 6 unchanged/);
  const experimentId = (await c.getExperimentByName(experiment))!.experiment_id;
  assert.is((await c.searchRuns({ experimentIds: [experimentId] })).length, 1);
  await assertHistoriesEqualFile(c, record.run_id, runDir);
});

test('a file changed since the last sync is sent again; new metric lines are added, old ones not repeated', async () => {
  const runDir = await offlineRunDir(uniqueName('changed'), 20);
  assert.is((await sync(runDir, '--uri', ctx.server!.uri)).code, 0);
  appendFileSync(
    join(runDir, 'metrics.jsonl'),
    JSON.stringify({ step: 21, epoch: 1, timestamp: Date.now(), metrics: { train_loss: 0.01 } }) + '\n',
  );
  writeFileSync(join(runDir, 'summary.json'), JSON.stringify({ steps: 21 }));
  const again = await sync(runDir);
  assert.match(again.out, /metrics: 1 sent/);
  assert.match(again.out, /files: 2 sent, 4 unchanged/);
  const record = readRunRecord(runDir)!;
  await assertHistoriesEqualFile(client(), record.run_id!, runDir);
  const summary = await client().downloadArtifact((await client().getRun(record.run_id!))!.info.artifact_uri, 'summary.json');
  assert.is(summary.toString(), JSON.stringify({ steps: 21 }));
});

test('an experiment folder syncs each of its runs', async () => {
  const experiment = uniqueName('many');
  const a = await offlineRunDir(experiment, 10);
  const b = await offlineRunDir(experiment, 12);
  const res = await sync(join(ctx.tmp!, 'runs', experiment), '--uri', ctx.server!.uri);
  assert.is(res.code, 0);
  assert.is(res.out.trim().split('\n').length, 2);
  for (const dir of [a, b]) await assertHistoriesEqualFile(client(), readRunRecord(dir)!.run_id!, dir);
  // A folder of experiment folders (runs/) syncs all of theirs.
  const root = join(ctx.tmp!, uniqueName('root'));
  cpSync(join(ctx.tmp!, 'runs', experiment), join(root, experiment), { recursive: true });
  cpSync(a, join(root, 'other', basename(a)), { recursive: true });
  const all = await sync(root, '--uri', ctx.server!.uri);
  assert.is(all.code, 0);
  assert.equal(
    all.out
      .trim()
      .split('\n')
      .map((line) => line.split(' -> ')[0])
      .sort(),
    [join(root, experiment, basename(a)), join(root, experiment, basename(b)), join(root, 'other', basename(a))]
      .map((d) => `synced  ${d}`)
      .sort(),
  );
});

test('a torn last line (crash mid-write) is skipped and reported; a dead RUNNING run is closed as KILLED', async () => {
  const runDir = await offlineRunDir(uniqueName('crashed'), 15);
  appendFileSync(join(runDir, 'metrics.jsonl'), '{"step": 16, "timest');
  rmSync(join(runDir, 'summary.json'));
  writeRunRecord(runDir, {
    version: 1,
    target: { kind: 'server', uri: ctx.server!.uri },
    experiment: uniqueName('crashed'),
    run_name: 'crashed',
    client_key: uniqueName('key'),
    start_time: Date.now() - 1000,
    status: 'RUNNING',
    params: [],
    tags: [],
    artifacts: [],
    synced: false,
    pid: 999_999_999, // no such process
    host: hostname(),
  });
  const res = await sync(runDir);
  assert.is(res.code, 0);
  assert.match(res.out, `closed  ${runDir}: process 999999999 on ${hostname()} is gone (killed hard or crashed), so run `);
  assert.match(res.out, /\(killed; .* 1 unreadable metrics\.jsonl lines skipped\)/);
  const record = readRunRecord(runDir)!;
  assert.is(record.status, 'KILLED');
  assert.is((await client().getRun(record.run_id!))!.info.status, 'KILLED');
});

test('a run left RUNNING by a process on another host is uploaded but stays RUNNING (this host cannot check it)', async () => {
  const runDir = await offlineRunDir(uniqueName('elsewhere'), 5);
  rmSync(join(runDir, 'summary.json'));
  writeFileSync(join(runDir, 'owner.json'), JSON.stringify({ pid: 4242, host: 'another-host' }));
  const res = await sync(runDir, '--uri', ctx.server!.uri);
  assert.is(res.code, 0);
  assert.match(res.out, `running ${runDir}: run `);
  assert.match(res.out, 'stays RUNNING: process 4242 on another-host cannot be checked from this host');
  const record = readRunRecord(runDir)!;
  assert.is(record.status, 'RUNNING');
  assert.is((await client().getRun(record.run_id!))!.info.status, 'RUNNING');
  await assertHistoriesEqualFile(client(), record.run_id!, runDir);
});

test('a run killed hard (SIGKILL) stays RUNNING in MLflow until runner sync ends it KILLED, with every metric it wrote', async () => {
  const experiment = uniqueName('sigkill');
  const runsDir = join(ctx.tmp!, uniqueName('killed'));
  let killed: Promise<boolean> = Promise.resolve(false);
  const result = await runCli(['run', 'configs/quickstart.yaml', '--runs-dir', runsDir, '--set', 'train.epochs=500'], {
    env: { MLFLOW_TRACKING_URI: ctx.server!.uri, MLFLOW_EXPERIMENT_NAME: experiment, RUNNER_NO_REEXEC: '1' },
    onStart: (child) => (killed = interruptAfterMetrics(child, runsDir, 'quickstart', 3, 'SIGKILL')),
  });
  assert.ok(await killed, 'never saw metrics');
  assert.is(result.signal, 'SIGKILL');
  const runDir = join(runsDir, 'quickstart', readdirSync(join(runsDir, 'quickstart'))[0]!);
  const owner = JSON.parse(readFileSync(join(runDir, 'owner.json'), 'utf8'));
  assert.is(owner.host, hostname());
  const left = readRunRecord(runDir)!;
  assert.is(left.status, 'RUNNING');
  assert.is((await client().getRun(left.run_id!))!.info.status, 'RUNNING', 'nobody closed it');

  const res = await sync(runDir);
  assert.is(res.code, 0);
  assert.match(res.out, `closed  ${runDir}: process ${owner.pid} on ${hostname()}`);
  assert.match(res.out, `so run ${left.run_id} ended KILLED at `);
  const run = (await client().getRun(left.run_id!))!;
  assert.is(run.info.status, 'KILLED');
  assert.ok(Number(run.info.end_time) >= left.start_time, 'an end time at its last write');
  assert.ok(run.data.metrics.length > 0, 'metrics present');
  await assertHistoriesEqualFile(client(), left.run_id!, runDir);
  assert.is(readRunRecord(runDir)!.status, 'KILLED');
  assert.not.match((await sync(runDir)).out, 'closed', 'closed once');
});

test('a run that is still going is refused', async () => {
  const runDir = await offlineRunDir(uniqueName('live'), 5);
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    writeRunRecord(runDir, {
      version: 1,
      target: { kind: 'server', uri: ctx.server!.uri },
      experiment: 'live',
      client_key: 'k',
      start_time: Date.now(),
      status: 'RUNNING',
      params: [],
      tags: [],
      artifacts: [],
      synced: false,
      pid: child.pid,
      host: hostname(),
    });
    await sync(runDir).then(
      () => assert.unreachable(),
      (error: unknown) => {
        assert.instance(error, UserError);
        assert.match((error as Error).message, /still going/);
      },
    );
    // Never tracked: its owner.json says who runs it. Among others, it is skipped and the rest synced.
    const untracked = await offlineRunDir(uniqueName('live-untracked'), 5);
    rmSync(join(untracked, 'summary.json'));
    writeFileSync(join(untracked, 'owner.json'), JSON.stringify({ pid: child.pid, host: hostname() }));
    const done = await offlineRunDir(basename(dirname(untracked)), 5);
    const res = await sync(dirname(untracked), '--uri', ctx.server!.uri);
    assert.is(res.code, 0);
    assert.match(res.out, `skipped ${untracked}: The run in ${untracked} is still going (process ${child.pid} on ${hostname()})`);
    assert.match(res.out, `synced  ${done} -> `);
    assert.not.ok(existsSync(join(untracked, 'tracking.json')), 'nothing sent for the live run');
  } finally {
    child.kill();
  }
});

test('bad input is a UserError with a clear message', async () => {
  const notRun = join(ctx.tmp!, 'empty');
  mkdirSync(notRun, { recursive: true });
  const cases: Array<[string[], RegExp]> = [
    [[], /needs at least one run folder/],
    [[join(ctx.tmp!, 'nope')], /does not exist/],
    [[notRun], /not a run folder/],
    [[notRun, '--uri', 'x', '--local'], /one of --uri and --local/],
    [['--bogus'], /runner sync: .*bogus/],
  ];
  for (const [argv, message] of cases) {
    await sync(...argv).then(
      () => assert.unreachable(argv.join(' ')),
      (error: unknown) => {
        assert.instance(error, UserError, argv.join(' '));
        assert.match((error as Error).message, message);
      },
    );
  }
  const runDir = await offlineRunDir(uniqueName('bad-uri'), 3);
  await sync(runDir, '--uri', 'sqlite:///mlflow.db').then(
    () => assert.unreachable(),
    (error: unknown) => assert.match((error as Error).message, /http\(s\) only/),
  );
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { acquireLocalServer, readRegistry, SERVER_LOCK_FILE, SERVER_REGISTRY_FILE } from '../../../runner/tracking/local-store.ts';
import { groupAlive, startMlflowServer } from '../../../runner/tracking/server.ts';
import { PROJECT_ROOT, tempDir } from '../../helpers/files.ts';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface User {
  child: ChildProcess;
  joined: Promise<{ uri: string; pid: number; adopted: boolean }>;
  ended: Promise<number | null>;
}

/** A real runner process using the store's server (tests/runner/tracking/store-user.ts) until its stdin is closed. */
function storeUser(storeDir: string, ending: 'release' | 'exit' = 'release'): User {
  const script = join(PROJECT_ROOT, 'tests/runner/tracking/store-user.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, storeDir, ...(ending === 'exit' ? ['exit'] : [])], {
    cwd: PROJECT_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (chunk) => (err += chunk));
  const joined = new Promise<{ uri: string; pid: number; adopted: boolean }>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!));
    });
    child.on('close', (code) => reject(new Error(`store user ended (${code}) before joining: ${err}`)));
  });
  joined.catch(() => {});
  const ended = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, joined, ended };
}

async function alive(uri: string): Promise<boolean> {
  try {
    return (await fetch(`${uri}/health`, { signal: AbortSignal.timeout(3000) })).ok;
  } catch {
    return false;
  }
}

test('four processes on a fresh store at once: one server, started (and migrated) once, shared; the last one out stops it', async () => {
  const store = join(tempDir(), 'mlflow');
  const users = [0, 1, 2, 3].map(() => storeUser(store));
  const joined = await Promise.all(users.map((u) => u.joined));
  assert.is(new Set(joined.map((j) => j.uri)).size, 1, `one server: ${JSON.stringify(joined)}`);
  assert.is(joined.filter((j) => !j.adopted).length, 1, 'started by one process, joined by the others');
  const registry = readRegistry(store)!;
  assert.is(registry.uri, joined[0]!.uri);
  assert.equal(registry.users.map((u) => u.pid).sort(), users.map((u) => u.child.pid).sort());
  const log = readFileSync(join(store, 'server.log'), 'utf8');
  assert.is(log.match(/^--- .* starts mlflow server/gm)?.length, 1, log);
  assert.not.match(log, /Online migration|database is locked|Error initializing/);
  // The starter leaves first: the server stays for the others.
  const starter = users[joined.findIndex((j) => !j.adopted)]!;
  const rest = users.filter((u) => u !== starter);
  starter.child.stdin!.end();
  assert.is(await starter.ended, 0);
  assert.ok(await alive(registry.uri), 'the others still have the server');
  assert.is(readRegistry(store)!.users.length, 3);
  for (const user of rest) user.child.stdin!.end();
  for (const user of rest) assert.is(await user.ended, 0);
  assert.not.ok(await alive(registry.uri), 'the last one out stopped it');
  assert.not.ok(existsSync(join(store, SERVER_REGISTRY_FILE)), 'and removed the registry');
  assert.not.ok(existsSync(join(store, SERVER_LOCK_FILE)), 'no lock left');
});

test('users killed hard are dropped, and a lock left by a dead process is broken: the last live user still stops the server', async () => {
  const store = join(tempDir(), 'mlflow');
  const first = storeUser(store);
  const { uri } = await first.joined;
  const second = storeUser(store);
  assert.is((await second.joined).uri, uri);
  const killed = storeUser(store);
  assert.is((await killed.joined).uri, uri);
  // The starter and another user die without a word (the server, in its own process group, lives on).
  first.child.kill('SIGKILL');
  killed.child.kill('SIGKILL');
  await Promise.all([first.ended, killed.ended]);
  assert.ok(await alive(uri), 'the server outlives its starter');
  // A process killed while it held the store's lock leaves the lock file behind (its pid is now gone).
  writeFileSync(join(store, SERVER_LOCK_FILE), JSON.stringify({ pid: killed.child.pid, host: hostname() }));
  second.child.stdin!.end();
  assert.is(await second.ended, 0);
  assert.not.ok(await alive(uri), 'the last live user stopped it: the dead users were not counted');
  assert.not.ok(existsSync(join(store, SERVER_REGISTRY_FILE)));
  assert.not.ok(existsSync(join(store, SERVER_LOCK_FILE)));
});

test('processes that exit without releasing (a second Ctrl-C) leave the registry on their way out; the last one stops the server', async () => {
  const store = join(tempDir(), 'mlflow');
  const first = storeUser(store, 'exit');
  const { uri, pid } = await first.joined;
  const second = storeUser(store, 'exit');
  assert.is((await second.joined).uri, uri);
  second.child.stdin!.end();
  assert.is(await second.ended, 130);
  assert.equal(
    readRegistry(store)!.users.map((u) => u.pid),
    [first.child.pid],
    'the one that exited took itself off',
  );
  assert.ok(await alive(uri));
  first.child.stdin!.end();
  assert.is(await first.ended, 130);
  const deadline = Date.now() + 15_000;
  while (groupAlive(pid) && Date.now() < deadline) await tick(200);
  assert.not.ok(groupAlive(pid), 'the last one stopped the server as it exited');
  assert.not.ok(existsSync(join(store, SERVER_REGISTRY_FILE)));
  assert.not.ok(existsSync(join(store, SERVER_LOCK_FILE)));
});

test('a joined server is not taken for dead while it is slow to answer; it is once its process ends, and the next acquire replaces it', async () => {
  const store = join(tempDir(), 'mlflow');
  const other = storeUser(store);
  const { uri, pid } = await other.joined;
  const lease = await acquireLocalServer(store);
  try {
    assert.ok(lease.adopted, 'joined, not started');
    assert.is(lease.server.uri, uri);
    let exited: string | number | null | undefined;
    void lease.server.exited.then((why) => (exited = why));
    // A server busy with other runs' requests on a loaded machine (or this process's event loop held by long
    // training steps) may not answer /health for seconds: simulated by stopping its processes for 6 s.
    process.kill(-pid, 'SIGSTOP');
    try {
      await tick(6000);
    } finally {
      process.kill(-pid, 'SIGCONT');
    }
    assert.is(exited, undefined, 'a server that did not answer for 6 s but still runs is not taken for dead');
    assert.ok(await alive(uri), 'and it answers again');
    await lease.server.kill();
    const deadline = Date.now() + 10_000;
    while (exited === undefined && Date.now() < deadline) await tick(100);
    assert.ok(exited !== undefined, 'its end is seen');
    const next = await acquireLocalServer(store);
    try {
      assert.not.ok(next.adopted, 'the registered server is dead: this process starts the next one');
      assert.is.not(next.server.pid, pid);
      assert.is(readRegistry(store)!.pid, next.server.pid);
      assert.ok(await alive(next.server.uri));
    } finally {
      await next.release();
    }
  } finally {
    await lease.release();
    other.child.stdin!.end();
    await other.ended;
  }
});

test('a server that cannot start: the error quotes the last lines of its own start in the log, never an empty tail', async () => {
  const store = join(tempDir(), 'mlflow');
  const first = await startMlflowServer({ storeDir: store });
  await first.stop();
  writeFileSync(join(store, 'mlflow.db'), 'not a SQLite database, so mlflow cannot open the store\n'.repeat(100));
  const error = await acquireLocalServer(store).then(
    () => undefined,
    (e: Error) => e,
  );
  assert.ok(error, 'it did not start');
  const [first_line, ...tail] = error!.message.split('\n');
  assert.match(first_line!, /mlflow server exited \(1\) before it was ready\. The last lines of its log \(.*server\.log\):/);
  assert.ok(tail.length > 0 && tail.join('').trim().length > 0, error!.message);
  assert.not.match(tail.join('\n'), /Uvicorn running|Application startup complete/, 'only this start, not the earlier one');
  assert.not.ok(existsSync(join(store, SERVER_LOCK_FILE)), 'the lock is released after a failed start');
  const log = readFileSync(join(store, 'server.log'), 'utf8');
  assert.is(log.match(/^--- .* starts mlflow server/gm)?.length, 2, 'each start is marked in the log');
});

test.run();

/**
 * The embedded local store (runs/mlflow) and the one `mlflow server` that serves it, shared by every runner process
 * on this machine that uses the store (runs, sweeps and their trials, `runner sync`, `runner ui`).
 *
 * Two files in the store coordinate them:
 * - server.lock, the store's lock: created exclusively (O_EXCL) by the process that holds it, with its pid, host and
 *   start ticks inside; a lock whose process is gone (killed hard, crashed) is broken by the next process that wants
 *   it. Choosing, starting (with the SQLite migration of a new store), joining and leaving the server all happen
 *   under it, so two processes never start servers on one store at once.
 * - server.json, the registry: the server's URL, pid and log, and the processes using it. The first process that
 *   needs a server starts it and registers; later ones find it there (alive and answering /health) and add
 *   themselves; each one removes itself when done, and the last one stops the server. Users killed hard are dropped
 *   by the next process that reads the registry (their pid is gone), so they never keep a server up forever.
 *
 * A server that dies (killed, crashed) is replaced by the next process that needs it: the registry names a dead
 * process, so that process starts a new one under the lock and the others join it when their requests fail.
 */
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { currentOwner, describeOwner, ownerState, pidAlive, type ProcessOwner } from '../common/owner.ts';
import { sleep } from './retry.ts';
import { killGroup, type MlflowServer, spareOnExit, startMlflowServer, stopProcessGroup } from './server.ts';

/** The embedded store's folder for a run folder runs/<experiment>/<run-id>: runs/mlflow. */
export function defaultStoreDir(runDir: string): string {
  return join(dirname(dirname(resolve(runDir))), 'mlflow');
}

/** The store's registry of its server and the processes using it. */
export const SERVER_REGISTRY_FILE = 'server.json';
/** The store's lock (held while the server is chosen, started, joined or left). */
export const SERVER_LOCK_FILE = 'server.lock';

/** What server.json holds. */
export interface ServerRegistry {
  uri: string;
  /** The server's process (its process group leader). */
  pid: number;
  host: string;
  log_file: string;
  started_by: ProcessOwner;
  /** The processes using it (one entry per process, however many runs it has on the store). */
  users: ProcessOwner[];
}

/** A share of the store's server; release it when done. */
export interface LocalServerLease {
  server: MlflowServer;
  /** True when another process had started the server (a run, a sweep, `runner ui`); this one joined it. */
  adopted: boolean;
  /** Gives the share back; the last user of the store (in any process) stops the server. Never throws. */
  release(): Promise<void>;
}

/** Where to listen when this process is the one that starts the server (`runner ui --host/--port`). */
export interface ServeOptions {
  host?: string;
  port?: number;
}

/** How long a process waits for the store's lock: the holder may be starting the server (up to 120 s). */
const LOCK_TIMEOUT_MS = 180_000;
/** A lock file left empty (its process died between creating and writing it) is broken after this long. */
const EMPTY_LOCK_STALE_MS = 10_000;
/**
 * How long a registered server that is alive gets to answer /health before it is taken for hung and replaced (it
 * may be busy with many runs, and this process's event loop may be held by a model being built).
 */
const HEALTH_WAIT_MS = 60_000;

type Joined = { server: MlflowServer; adopted: boolean };
const shared = new Map<string, { starting: Promise<Joined>; refs: number }>();

/**
 * The server of the store in `storeDir`: the one registered there if it is alive and answers, else one started here
 * (on a free loopback port unless `serve` says otherwise) and registered. Shared by every lease in this process (e.g.
 * all trials of an in-process sweep) and by every process on the store; the last lease released anywhere stops it.
 */
export async function acquireLocalServer(storeDir: string, serve: ServeOptions = {}): Promise<LocalServerLease> {
  const key = resolve(storeDir);
  let entry = shared.get(key);
  if (!entry) {
    const created = { starting: joinServer(key, serve), refs: 0 };
    shared.set(key, created);
    // A server that dies is forgotten, so the next acquire finds (or starts) its successor.
    // (Watched from the moment it is known, so that no lease handed out sees it end first.)
    created.starting.then(
      ({ server }) =>
        void server.exited.then(() => {
          if (shared.get(key) === created) shared.delete(key);
        }),
      () => {},
    );
    entry = created;
  }
  entry.refs++;
  const current = entry;
  let joined: Joined;
  try {
    joined = await current.starting;
  } catch (error) {
    current.refs--;
    if (shared.get(key) === current) shared.delete(key);
    throw error;
  }
  let released = false;
  return {
    server: joined.server,
    adopted: joined.adopted,
    release: async () => {
      if (released) return;
      released = true;
      current.refs--;
      if (current.refs > 0) return;
      if (shared.get(key) === current) shared.delete(key);
      await leaveServer(key, joined).catch(() => {
        // The lock could not be had: this process is dropped from the registry once it has ended.
      });
    },
  };
}

/** Joins the registered server, or starts and registers one; under the store's lock. */
async function joinServer(storeDir: string, serve: ServeOptions): Promise<Joined> {
  return withStoreLock(storeDir, async () => {
    const registry = readRegistry(storeDir);
    if (registry && (await serving(registry))) {
      writeRegistry(storeDir, { ...registry, users: [...liveUsers(registry.users), currentOwner()] });
      memberships.set(storeDir, registry.pid);
      return { server: registeredServer(storeDir, registry), adopted: true };
    }
    const server = await startMlflowServer({ storeDir, ...serve });
    const me = currentOwner();
    writeRegistry(storeDir, { uri: server.uri, pid: server.pid, host: hostname(), log_file: server.logFile, started_by: me, users: [me] });
    memberships.set(storeDir, server.pid);
    spareOnExit(server); // other processes may use it after this one exits: the registry's last user stops it
    return { server, adopted: false };
  });
}

/** Removes this process from the registry; the last user stops the server. */
async function leaveServer(storeDir: string, { server, adopted }: Joined): Promise<void> {
  await withStoreLock(storeDir, async () => {
    memberships.delete(storeDir);
    const registry = readRegistry(storeDir);
    if (registry?.pid !== server.pid) {
      // It died and another process has registered its successor (or no one has yet): nothing of ours to update.
      if (!adopted) await server.stop();
      return;
    }
    const users = liveUsers(registry.users);
    if (users.length > 0) {
      writeRegistry(storeDir, { ...registry, users });
      return;
    }
    rmSync(join(storeDir, SERVER_REGISTRY_FILE), { force: true });
    await server.stop();
  });
}

/** The users that still run, this process left out (ownerState counts this process as gone). */
function liveUsers(users: ProcessOwner[]): ProcessOwner[] {
  return users.filter((user) => ownerState(user) !== 'gone');
}

/** Whether the registered server runs on this host and answers /health (given time: it may be busy). */
async function serving(registry: ServerRegistry): Promise<boolean> {
  if (registry.host !== hostname() || !pidAlive(registry.pid)) return false;
  const deadline = Date.now() + HEALTH_WAIT_MS;
  while (pidAlive(registry.pid)) {
    if (await healthy(registry.uri)) return true;
    if (Date.now() > deadline) {
      // Alive but not answering for a minute: hung. Replace it; its users join the new one when their requests fail.
      await stopProcessGroup(registry.pid, 2000);
      return false;
    }
    await sleep(500);
  }
  return false;
}

/**
 * A handle on a server another process started: `exited` resolves once its process has ended (watched by pid, not
 * by /health: a training step holds this process's event loop for seconds, which would make a healthy server look
 * dead); stop() ends its process group.
 */
function registeredServer(storeDir: string, registry: ServerRegistry): MlflowServer {
  const url = new URL(registry.uri);
  let resolveExit!: (value: string) => void;
  const exited = new Promise<string>((r) => (resolveExit = r));
  const watch = setInterval(() => {
    if (pidAlive(registry.pid)) return;
    clearInterval(watch);
    resolveExit('process ended');
  }, 1000);
  watch.unref();
  return {
    uri: registry.uri,
    host: url.hostname,
    port: Number(url.port),
    storeDir,
    pid: registry.pid,
    logFile: registry.log_file,
    exited,
    stop: async (graceMs) => {
      await stopProcessGroup(registry.pid, graceMs);
      clearInterval(watch);
      resolveExit('stopped');
    },
    kill: async () => {
      killGroup(registry.pid, 'SIGKILL');
      while (pidAlive(registry.pid)) await sleep(100);
      clearInterval(watch);
      resolveExit('killed');
    },
  };
}

/** The store's registry, or undefined when there is none (or it cannot be read). */
export function readRegistry(storeDir: string): ServerRegistry | undefined {
  try {
    const registry = JSON.parse(readFileSync(join(storeDir, SERVER_REGISTRY_FILE), 'utf8')) as ServerRegistry;
    return Number.isInteger(registry.pid) && typeof registry.uri === 'string' && Array.isArray(registry.users) ? registry : undefined;
  } catch {
    return undefined;
  }
}

function writeRegistry(storeDir: string, registry: ServerRegistry): void {
  const file = join(storeDir, SERVER_REGISTRY_FILE);
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(registry, null, 2)}\n`);
  renameSync(temp, file);
}

async function healthy(uri: string): Promise<boolean> {
  try {
    const res = await fetch(`${uri}/health`, { signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

// ---- The store's lock ----

/** Lock files this process holds. */
const held = new Set<string>();
/** Per lock file, the end of this process's queue for it (one holder at a time inside a process too). */
const queues = new Map<string, Promise<void>>();

/** Runs `body` holding the store's lock (waiting for it up to LOCK_TIMEOUT_MS). */
async function withStoreLock<T>(storeDir: string, body: () => Promise<T>): Promise<T> {
  mkdirSync(storeDir, { recursive: true });
  const file = join(storeDir, SERVER_LOCK_FILE);
  const before = queues.get(file) ?? Promise.resolve();
  let done!: () => void;
  const turn = before.then(() => new Promise<void>((r) => (done = r)));
  queues.set(file, turn);
  await before;
  try {
    const deadline = Date.now() + LOCK_TIMEOUT_MS;
    while (!tryLock(file)) {
      if (Date.now() > deadline) {
        const owner = parseOwner(readText(file));
        throw new Error(
          `the local store's lock ${file} is held by ${owner ? describeOwner(owner) : 'another process'} for more than ${LOCK_TIMEOUT_MS / 1000} s`,
        );
      }
      await sleep(100 + Math.random() * 100);
    }
    try {
      return await body();
    } finally {
      unlock(file);
    }
  } finally {
    done();
    if (queues.get(file) === turn) queues.delete(file);
  }
}

/** Takes the lock if it is free (or stale: its process is gone); false if another process holds it. */
function tryLock(file: string): boolean {
  try {
    const fd = openSync(file, 'wx');
    try {
      writeSync(fd, JSON.stringify(currentOwner()));
    } finally {
      closeSync(fd);
    }
    held.add(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  breakIfStale(file);
  return false;
}

/** Removes the lock if the process in it is gone (or it stayed empty too long), for the next tryLock. */
function breakIfStale(file: string): void {
  const text = readText(file);
  if (text === undefined) return; // released meanwhile
  const owner = parseOwner(text);
  let stale: boolean;
  if (owner) stale = owner.pid !== process.pid && ownerState(owner) === 'gone';
  else {
    try {
      stale = Date.now() - statSync(file).mtimeMs > EMPTY_LOCK_STALE_MS;
    } catch {
      return;
    }
  }
  if (!stale) return;
  // Moved aside, then checked: another process may have broken it and taken it afresh since it was read.
  const aside = `${file}.${process.pid}.stale`;
  try {
    renameSync(file, aside);
  } catch {
    return;
  }
  if (readText(aside) !== text) {
    try {
      linkSync(aside, file); // a live holder's lock: put it back
    } catch {
      // someone else holds it now
    }
  }
  rmSync(aside, { force: true });
}

function unlock(file: string): void {
  held.delete(file);
  rmSync(file, { force: true });
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function parseOwner(text: string | undefined): ProcessOwner | undefined {
  try {
    const owner = JSON.parse(text ?? '') as ProcessOwner;
    return Number.isInteger(owner.pid) && typeof owner.host === 'string' ? owner : undefined;
  } catch {
    return undefined;
  }
}

// ---- Leaving at exit ----

/** Stores whose server this process uses (store folder to the server's pid), to leave them if it exits first. */
const memberships = new Map<string, number>();

/**
 * A process that exits without releasing its leases (a second Ctrl-C, an uncaught error) leaves the registry on its
 * way out, synchronously: it removes itself, and stops the server if no one else uses it. Locks it holds go too.
 */
process.on('exit', () => {
  for (const [storeDir, pid] of memberships) {
    const file = join(storeDir, SERVER_LOCK_FILE);
    if (!held.has(file) && !lockSoon(file, 2000)) continue; // its entry is dropped later, as a dead user's
    const registry = readRegistry(storeDir);
    if (registry?.pid === pid) {
      const users = liveUsers(registry.users);
      if (users.length > 0) writeRegistry(storeDir, { ...registry, users });
      else {
        rmSync(join(storeDir, SERVER_REGISTRY_FILE), { force: true });
        killGroup(pid, 'SIGTERM');
      }
    }
    unlock(file);
  }
  for (const file of held) unlock(file);
});

/** tryLock, retried for up to `waitMs` (blocking: for the exit handler). */
function lockSoon(file: string, waitMs: number): boolean {
  const deadline = Date.now() + waitMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (!tryLock(file)) {
    if (Date.now() > deadline) return false;
    Atomics.wait(pause, 0, 0, 50);
  }
  return true;
}

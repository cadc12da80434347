import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from './retry.ts';

/** The project root (where .venv/ lives). */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** How to install MLflow, for messages. */
export const INSTALL_HINT = 'npm run setup:mlflow (or bash scripts/setup-mlflow.sh)';

/** MLflow is not installed where the runner looks for it: not fatal for a run (everything stays on disk). */
export class MlflowNotInstalledError extends Error {
  override name = 'MlflowNotInstalledError';
}

/** A running `mlflow server` started by the runner. */
export interface MlflowServer {
  /** Base URL, e.g. http://127.0.0.1:41234. */
  readonly uri: string;
  readonly host: string;
  readonly port: number;
  /** Folder holding mlflow.db, artifacts/ and server.log. */
  readonly storeDir: string;
  /** Process id of the server's process group leader. */
  readonly pid: number;
  /** The server's own log (stdout and stderr), appended to after a line naming the runner process that started it. */
  readonly logFile: string;
  /** Resolves with the exit code (or signal name) when the server process ends, for whatever reason. */
  readonly exited: Promise<number | string | null>;
  /** Stops it: SIGTERM to its process group, SIGKILL after `graceMs`; resolves once it is gone. */
  stop(graceMs?: number): Promise<void>;
  /** Kills it at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
}

/** Options of startMlflowServer. */
export interface StartServerOptions {
  /** Folder of the store (created if missing): mlflow.db (SQLite backend) and artifacts/. */
  storeDir: string;
  /** Loopback address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port; default a free one. */
  port?: number;
  /** How long to wait for /health, ms (default 120 s). */
  timeoutMs?: number;
  /** The mlflow executable (default: $RUNNER_MLFLOW, else .venv/bin/mlflow). */
  mlflowBin?: string;
}

/** The mlflow executable the runner uses: $RUNNER_MLFLOW when set, else the project's .venv/bin/mlflow; undefined if it does not exist. */
export function findMlflow(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidate = env.RUNNER_MLFLOW || join(PROJECT_ROOT, '.venv', 'bin', 'mlflow');
  return existsSync(candidate) ? candidate : undefined;
}

/** A TCP port that was free on `host` a moment ago. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

const live = new Map<number, ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A runner that dies (or simply exits) must not leave its MLflow server behind.
  process.on('exit', () => {
    for (const pid of live.keys()) killGroup(pid, 'SIGTERM');
  });
}

/** Leaves `server` running when this process exits: its lifetime is managed elsewhere (the local store's registry). */
export function spareOnExit(server: MlflowServer): void {
  live.delete(server.pid);
}

/**
 * Starts a real `mlflow server` with a SQLite backend and a proxied local artifact store in `storeDir`,
 * in its own process group (so Ctrl-C on the runner does not kill it before the run is closed), and waits
 * until /health answers. Throws MlflowNotInstalledError when mlflow is missing.
 */
export async function startMlflowServer(options: StartServerOptions): Promise<MlflowServer> {
  const bin = options.mlflowBin ?? findMlflow();
  if (!bin || !existsSync(bin)) {
    throw new MlflowNotInstalledError(
      `MLflow is not installed (no ${options.mlflowBin ?? process.env.RUNNER_MLFLOW ?? '.venv/bin/mlflow'}); install it with ${INSTALL_HINT}.`,
    );
  }
  const tries = options.port === undefined ? 3 : 1;
  let lastError: unknown;
  for (let i = 0; i < tries; i++) {
    try {
      return await startOnce(bin, options, options.port ?? (await freePort(options.host)));
    } catch (error) {
      lastError = error;
      if (!(error instanceof PortTakenError)) throw error;
    }
  }
  throw lastError;
}

class PortTakenError extends Error {}

async function startOnce(bin: string, options: StartServerOptions, port: number): Promise<MlflowServer> {
  const host = options.host ?? '127.0.0.1';
  const storeDir = resolve(options.storeDir);
  const artifacts = join(storeDir, 'artifacts');
  mkdirSync(artifacts, { recursive: true });
  const logFile = join(storeDir, 'server.log');
  // Each start appends below a line of its own, and its errors quote the log from that line on.
  appendFileSync(logFile, `--- ${new Date().toISOString()} runner process ${process.pid} starts mlflow server on port ${port} ---\n`);
  const logStart = statSync(logFile).size;
  const logFd = openSync(logFile, 'a');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false', // no background job workers: 7 fewer processes
    MLFLOW_DISABLE_TELEMETRY: 'true',
    DO_NOT_TRACK: 'true',
    PYTHONUNBUFFERED: '1',
  };
  for (const name of ['MLFLOW_TRACKING_URI', 'MLFLOW_TRACKING_USERNAME', 'MLFLOW_TRACKING_PASSWORD', 'MLFLOW_TRACKING_TOKEN'])
    delete env[name];
  const args = [
    'server',
    '--host',
    host,
    '--port',
    String(port),
    '--backend-store-uri',
    `sqlite:///${join(storeDir, 'mlflow.db')}`,
    '--artifacts-destination',
    artifacts,
    '--serve-artifacts',
    '--workers',
    '1',
  ];
  let child: ChildProcess;
  try {
    child = spawn(bin, args, { cwd: storeDir, env, detached: true, stdio: ['ignore', logFd, logFd] });
  } finally {
    closeSync(logFd);
  }
  child.unref();
  const pid = child.pid ?? -1;
  if (pid > 0) live.set(pid, child);
  installExitHook();
  let exitInfo: number | string | null | undefined;
  const exited = new Promise<number | string | null>((resolveExit) => {
    child.on('exit', (code, signal) => {
      exitInfo = code ?? signal;
      live.delete(pid);
      resolveExit(exitInfo);
    });
    child.on('error', (error) => {
      exitInfo = error.message;
      live.delete(pid);
      resolveExit(exitInfo);
    });
  });
  const uri = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const stop = async (graceMs = 10_000) => {
    child.ref(); // keep this process alive until the server is gone
    if (exitInfo === undefined) {
      killGroup(pid, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const done = await Promise.race([
        exited.then(() => true),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(false), graceMs))),
      ]);
      clearTimeout(timer);
      if (!done) killGroup(pid, 'SIGKILL');
      await exited;
    }
    // The CLI process may end before its uvicorn child: wait for the whole group.
    await stopProcessGroup(pid, 5000);
  };
  const kill = async () => {
    child.ref();
    killGroup(pid, 'SIGKILL');
    await exited;
    for (let i = 0; i < 50 && groupAlive(pid); i++) await sleep(100);
  };
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  while (true) {
    if (exitInfo !== undefined) {
      const log = readLogTail(logFile, logStart);
      if (/address already in use|Errno 98/i.test(log)) throw new PortTakenError(`port ${port} is taken`);
      throw new Error(`mlflow server exited (${exitInfo}) before it was ready. The last lines of its log (${logFile}):\n${log}`);
    }
    try {
      const res = await fetch(`${uri}/health`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      await stop(2000);
      throw new Error(`mlflow server did not answer ${uri}/health within ${options.timeoutMs ?? 120_000} ms. Its log: ${logFile}`);
    }
    await sleep(250);
  }
  return { uri, host, port, storeDir, pid, logFile, exited, stop, kill };
}

/**
 * Stops the process group of `pid` (a server started by this or another runner process): SIGTERM, SIGKILL after
 * `graceMs`; resolves once the whole group is gone.
 */
export async function stopProcessGroup(pid: number, graceMs = 10_000): Promise<void> {
  killGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupAlive(pid) && Date.now() < deadline) await sleep(100);
  if (!groupAlive(pid)) return;
  killGroup(pid, 'SIGKILL');
  for (let i = 0; i < 50 && groupAlive(pid); i++) await sleep(100);
}

/** Sends `signal` to the process group of `pid`, if it still exists. */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid || pid <= 0) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** True while any process of the process group `pid` exists. */
export function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readLogTail(file: string, from: number): string {
  try {
    const text = readFileSync(file).subarray(from).toString('utf8').trim();
    return text ? text.split('\n').slice(-15).join('\n') : '(nothing: the server wrote no output before it ended)';
  } catch (error) {
    return `(the log cannot be read: ${(error as Error).message})`;
  }
}

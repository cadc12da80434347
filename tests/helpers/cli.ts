import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from './files.ts';

/** Result of a finished `runner` process. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts `node bin/runner.js ...args` in the project root (`input` on its stdin); `onStart` may interact with the child. */
export function runCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; onStart?: (child: ChildProcess) => void; input?: string | Uint8Array } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin', 'runner.js'), ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    options.onStart?.(child);
  });
}

/**
 * Sends `signal` (default SIGINT) to `child` once the run under `runsDir/<experiment>/` has more than
 * `lines` lines in its metrics.jsonl; resolves to whether it was sent (false if the child ended first).
 */
export function interruptAfterMetrics(
  child: ChildProcess,
  runsDir: string,
  experiment: string,
  lines = 3,
  signal: NodeJS.Signals = 'SIGINT',
): Promise<boolean> {
  return new Promise((resolve) => {
    const poll = setInterval(() => {
      const dir = join(runsDir, experiment);
      const run = existsSync(dir) ? readdirSync(dir)[0] : undefined;
      const metrics = run && join(dir, run, 'metrics.jsonl');
      if (metrics && existsSync(metrics) && readFileSync(metrics, 'utf8').split('\n').length > lines) {
        clearInterval(poll);
        child.kill(signal);
        resolve(true);
      }
    }, 50);
    child.on('close', () => {
      clearInterval(poll);
      resolve(false);
    });
  });
}

/** A `runner ui` process: the address it printed (undefined if it ended first), its end, and Ctrl-C for it. */
export interface UiProcess {
  uri: Promise<string | undefined>;
  done: Promise<CliResult>;
  stop(): void;
}

/** Starts `runner ui --store <storeDir> --port <port>` (the local store's UI) and watches for its address. */
export function startUi(storeDir: string, port: number, env?: NodeJS.ProcessEnv): UiProcess {
  let stop = () => {};
  let resolveUri!: (uri: string | undefined) => void;
  const uri = new Promise<string | undefined>((r) => (resolveUri = r));
  const done = runCli(['ui', '--store', storeDir, '--port', String(port)], {
    env,
    onStart(child) {
      stop = () => child.kill('SIGINT');
      let seen = '';
      child.stdout!.on('data', (chunk) => {
        seen += chunk;
        const match = /http:\/\/127\.0\.0\.1:\d+/.exec(seen);
        if (match) resolveUri(match[0]);
      });
    },
  });
  void done.then(() => resolveUri(undefined));
  return { uri, done, stop: () => stop() };
}

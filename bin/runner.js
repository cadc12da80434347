#!/usr/bin/env node
// The `runner` command: a plain-JS launcher for runner/cli.ts.
//
// 1. GPU runs: TensorFlow dlopens the CUDA libraries by soname, and the dynamic loader reads
//    LD_LIBRARY_PATH only when a process starts (setting process.env here is too late). So when
//    `npm run setup:tensorflow -- --gpu` has laid out the CUDA libraries and LD_LIBRARY_PATH
//    lacks those folders, this starts Node once more on itself with them added, forwarding argv,
//    stdio, signals and the exit status. Otherwise (the usual CPU case) no second process is
//    started. RUNNER_NO_REEXEC=1 turns the re-exec off.
// 2. Registers tsx and runs `main(argv)` of runner/cli.ts; its result is the exit code.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const root = join(dirname(self), '..');

/** CUDA library folders `npm run setup:tensorflow -- --gpu` laid out (resolved); else []. */
function cudaLibraryDirs() {
  const nvidia = join(root, 'node_modules', '@tensorflow', 'tfjs-node-gpu', 'deps', 'nvidia');
  if (!existsSync(nvidia)) return [];
  return readdirSync(nvidia).sort()
    .map((name) => join(nvidia, name, 'lib'))
    .filter((dir) => existsSync(dir))
    .map((dir) => realpathSync(dir));
}

/** LD_LIBRARY_PATH with the CUDA folders first, or undefined when it already has them all. */
function libraryPathWithCuda() {
  if (process.env.RUNNER_NO_REEXEC === '1' || process.env.RUNNER_REEXECED === '1') return undefined;
  const dirs = cudaLibraryDirs();
  if (dirs.length === 0) return undefined;
  const current = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  const resolved = new Set(current.map((p) => { try { return realpathSync(p); } catch { return p; } }));
  const missing = dirs.filter((d) => !resolved.has(d));
  return missing.length === 0 ? undefined : [...missing, ...current].join(':');
}

/** Runs this file again with `libraryPath`, mirroring the child's stdio, signals and exit. */
function reexec(libraryPath) {
  const child = spawn(process.execPath, [...process.execArgv, self, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, LD_LIBRARY_PATH: libraryPath, RUNNER_REEXECED: '1' },
  });
  // The child shares this process group, so a terminal's Ctrl-C already reaches it: forwarding
  // SIGINT then would deliver it twice (a second Ctrl-C often means "stop now"). A SIGINT sent to
  // this process alone (no terminal) is forwarded, as every SIGTERM/SIGHUP is.
  const fromTerminal = (signal) => signal === 'SIGINT' && Boolean(process.stdin.isTTY);
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
  const forward = (signal) => { if (!fromTerminal(signal) && child.exitCode === null) child.kill(signal); };
  for (const signal of signals) process.on(signal, forward);
  child.on('error', (error) => {
    console.error(`runner: could not start ${process.execPath}: ${error.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    for (const s of signals) process.off(s, forward);
    if (signal) process.kill(process.pid, signal); // end the same way, so the shell sees 128+n
    else process.exitCode = code ?? 1;
  });
}

async function run() {
  const { register } = await import('tsx/esm/api');
  register();
  const cli = await import('../runner/cli.ts');
  const main = typeof cli.main === 'function' ? cli.main : cli.default;
  if (typeof main !== 'function') throw new Error('runner/cli.ts exports no main(argv) function');
  process.exitCode = await main(process.argv.slice(2));
}

const libraryPath = libraryPathWithCuda();
if (libraryPath !== undefined) {
  reexec(libraryPath);
} else {
  run().catch((error) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = typeof error?.exitCode === 'number' ? error.exitCode : 1;
  });
}

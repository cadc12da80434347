// What the benchmarks that measure against PyTorch share: the Python that runs the peer, medians, the load.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root. */
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** $PYTHON, else the bench venv's Python (.cache/bench-venv, with torch 2.13.0), else python3. */
export function python(): string {
  if (process.env.PYTHON) return process.env.PYTHON;
  const venv = join(root, '.cache/bench-venv/bin/python');
  return existsSync(venv) ? venv : 'python3';
}

/** Runs a bench/*.py peer on `model` for `steps` timed steps (after 2 warm-up steps) and parses the JSON line it ends with. */
export function runPeer<T>(script: string, model: string, steps: number, more: string[] = []): T {
  const args = [join(root, 'bench', script), '--model', model, '--steps', String(steps), '--warmup', '2', ...more, '--json'];
  const out = execFileSync(python(), args, { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1)!) as T;
}

/** The median of `values` (the upper one of an even count). */
export function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

/** The 1-, 5- and 15-minute load averages, as a ratio counts only from a quiet machine (under 1.5). */
export function loadAverage(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

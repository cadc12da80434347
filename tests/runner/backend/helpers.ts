import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as assert from 'uvu/assert';
import { onBackend as withBackend } from '../../helpers/tensors.ts';

/** Seeded uniform values in [-1, 1), generated once in JS so both backends see the same numbers. */
export function values(shape: number[], seed: number): { shape: number[]; data: Float32Array } {
  return { shape, data: tf.tidy(() => tf.randomUniform(shape, -1, 1, 'float32', seed).dataSync() as Float32Array) };
}

/** A tensor on the current backend from values(). */
export function tensor(v: { shape: number[]; data: Float32Array }): tf.Tensor {
  return tf.tensor(v.data, v.shape, 'float32');
}

/** Runs `fn` on one backend in a scope and returns its results as plain Float32Arrays; checks that nothing leaked. */
export async function onBackend(name: 'cpu' | 'tensorflow', fn: () => tf.Tensor[] | Promise<tf.Tensor[]>): Promise<Float32Array[]> {
  return withBackend(name, async () => {
    const tensors = tf.memory().numTensors;
    tf.engine().startScope();
    try {
      const out = await fn();
      return out.map((t) => Float32Array.from(t.dataSync()));
    } finally {
      tf.engine().endScope(); // every tensor the case made
      assert.is(tf.memory().numTensors, tensors, `tensors left by a case on '${name}'`);
    }
  });
}

/** The project's root folder. */
export const ROOT = new URL('../../../', import.meta.url).pathname.replace(/\/$/, '');

/** What fakePackage() puts in a package copy. */
export interface FakePackage {
  /** The addon file: a copy of the real one, garbage bytes, or none. */
  addon?: 'copy' | 'garbage';
  /** Lay out deps/lib/libtensorflow.so (an empty file: the real libraries stay out). */
  libs?: boolean;
  /** Contents of deps/.runner-tensorflow. */
  stamp?: string;
}

/**
 * A folder whose node_modules holds @tensorflow/tfjs-node as links to the real package's files,
 * with the addon and libraries as asked: real files for the loader to fail on, no mocks.
 */
export function fakePackage(root: string, spec: FakePackage): string {
  const real = join(ROOT, 'node_modules/@tensorflow/tfjs-node');
  const pkg = join(root, 'node_modules/@tensorflow/tfjs-node');
  mkdirSync(pkg, { recursive: true });
  symlinkSync(join(ROOT, 'node_modules/@mapbox'), join(root, 'node_modules/@mapbox'));
  copyFileSync(join(real, 'package.json'), join(pkg, 'package.json')); // a link would resolve to the real package
  symlinkSync(join(real, 'dist'), join(pkg, 'dist'));
  if (spec.addon) {
    mkdirSync(join(pkg, 'lib/napi-v8'), { recursive: true });
    const addon = join(pkg, 'lib/napi-v8/tfjs_binding.node');
    if (spec.addon === 'copy') copyFileSync(join(real, 'lib/napi-v8/tfjs_binding.node'), addon);
    else writeFileSync(addon, 'not an ELF file');
  }
  mkdirSync(join(pkg, 'deps/lib'), { recursive: true });
  if (spec.libs) writeFileSync(join(pkg, 'deps/lib/libtensorflow.so'), '');
  if (spec.stamp) writeFileSync(join(pkg, 'deps/.runner-tensorflow'), spec.stamp);
  return root;
}

/** A fresh temporary folder, removed by the returned function. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs tests/runner/backend/fixtures/probe.ts in a fresh Node (a process picks its backend once). */
export function probe(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { status: number | null; json: Record<string, unknown>; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'tests/runner/backend/fixtures/probe.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(line) as Record<string, unknown>;
  } catch {
    json = { unparsed: r.stdout };
  }
  return { status: r.status, json, stderr: r.stderr };
}

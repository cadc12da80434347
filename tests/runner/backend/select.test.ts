import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { nvidiaDriver } from '../../../runner/backend/cuda.ts';
import { describeBackend, selectBackend } from '../../../runner/backend/select.ts';
import type { BackendReport } from '../../../runner/backend/select.ts';
import { fakePackage, probe, tempDir } from './helpers.ts';

test('device cpu: the native backend loads (TensorFlow 2.21.0, oneDNN reported), and a matmul runs on it', async () => {
  const r = await selectBackend('cpu');
  assert.is(r.kind, 'native-cpu', `CI runs npm run setup:tensorflow first: ${JSON.stringify(r)}`);
  assert.is(r.tfBackend, 'tensorflow');
  assert.is(r.package, '@tensorflow/tfjs-node');
  assert.is(r.tensorflowVersion, '2.21.0');
  assert.type(r.oneDNN, 'boolean');
  assert.is(tf.getBackend(), 'tensorflow');
  assert.equal(
    tf.tidy(() => tf.matMul([[1, 2]], [[3], [4]]).arraySync()),
    [[11]],
  );
});

test('repeated calls return the first report; a conflicting device is an error', async () => {
  const first = await selectBackend('cpu');
  assert.is(await selectBackend('cpu'), first);
  assert.is(await selectBackend('auto'), first);
  await tf.setBackend('cpu');
  assert.is(await selectBackend('cpu'), first);
  assert.is(tf.getBackend(), first.tfBackend, 'a repeated call makes the chosen backend current again');
  if (first.kind !== 'native-gpu') {
    try {
      await selectBackend('gpu');
      assert.unreachable('gpu after a CPU choice must throw');
    } catch (e) {
      assert.match((e as Error).message, /a process selects its backend once/);
    }
  }
});

test('device cpu in a fresh process never loads @tensorflow/tfjs-node-gpu', () => {
  const r = probe(['select', 'cpu']);
  assert.is(r.json.gpuPackageLoaded, false, JSON.stringify(r.json));
  assert.is(r.json.cpuPackageLoaded, true, JSON.stringify(r.json));
  assert.is((r.json.report as BackendReport).kind, 'native-cpu');
  assert.is(r.json.matmul, 11);
});

test('a model’s intra-op thread preference is set before TensorFlow loads, and TensorFlow then uses one thread', () => {
  const r = probe(['select', 'cpu'], { PROBE_INTRA_OP_THREADS: '1', TF_NUM_INTRAOP_THREADS: '' });
  const report = r.json.report as BackendReport;
  assert.is(r.json.intraOpThreadsEnv, '1', JSON.stringify(r.json));
  assert.is(report.intraOpThreads, 1);
  assert.match(describeBackend(report), /1 intra-op thread \(the model's choice\)/);
  // One compute thread: a large matmul uses at most about one core's time per wall second (two would give ~2 on a quiet machine).
  assert.ok((r.json.cpuPerWall as number) < 1.35, `CPU seconds per wall second ${r.json.cpuPerWall}`);
});

test('an intra-op thread count already in the environment wins over the model’s preference', () => {
  const r = probe(['select', 'cpu'], { PROBE_INTRA_OP_THREADS: '1', TF_NUM_INTRAOP_THREADS: '2' });
  assert.is(r.json.intraOpThreadsEnv, '2', JSON.stringify(r.json));
  assert.is((r.json.report as BackendReport).intraOpThreads, undefined);
});

test('device auto without an NVIDIA driver: native CPU, no GPU package, nothing to fix', () => {
  if (nvidiaDriver() !== undefined) return; // a GPU machine: covered by the GPU checks in docs
  const r = probe(['select', 'auto']);
  const report = r.json.report as BackendReport;
  assert.is(report.kind, 'native-cpu', JSON.stringify(r.json));
  assert.is(report.fallbackReason, undefined);
  assert.is(r.json.gpuPackageLoaded, false);
});

test('device gpu without an NVIDIA driver: a UserError (exit 2) that says why', () => {
  if (nvidiaDriver() !== undefined) return;
  const r = probe(['select', 'gpu']);
  const error = r.json.error as { name: string; message: string; exitCode: number };
  assert.ok(error, JSON.stringify(r.json));
  assert.is(error.name, 'UserError');
  assert.is(error.exitCode, 2);
  assert.match(error.message, /device: gpu was asked for, but no usable GPU was found: no NVIDIA driver is loaded/);
  assert.match(error.message, /use device: auto \/ cpu/);
});

test('no native addon: pure JS with a loud warning giving the reason and the fix', () => {
  const t = tempDir('runner-select-');
  try {
    const r = probe(['select', 'auto', fakePackage(t.dir, { libs: true })]);
    const report = r.json.report as BackendReport;
    assert.is(report.kind, 'pure-js', JSON.stringify(r.json));
    assert.is(report.tfBackend, 'cpu');
    assert.is(r.json.backend, 'cpu');
    assert.is(r.json.matmul, 11);
    assert.match(report.fallbackReason!, /native addon of @tensorflow\/tfjs-node is not built/);
    assert.is(report.fix, 'npm run setup:tensorflow');
    const [warning] = r.json.warnings as string[];
    assert.match(warning!, /WARNING: TensorFlow's native backend did not load/);
    assert.match(warning!, /about 100x slower/);
    assert.match(warning!, /Why: the native addon of @tensorflow\/tfjs-node is not built/);
    assert.match(warning!, /Fix: npm run setup:tensorflow/);
  } finally {
    t.remove();
  }
});

test('describeBackend: one line per kind', () => {
  const gpu: BackendReport = {
    kind: 'native-gpu',
    tfBackend: 'tensorflow',
    package: '@tensorflow/tfjs-node-gpu',
    tensorflowVersion: '2.21.0',
    oneDNN: true,
    gpus: ['NVIDIA H200'],
  };
  assert.is(describeBackend(gpu), 'native GPU (@tensorflow/tfjs-node-gpu, TensorFlow 2.21.0, GPU: NVIDIA H200, oneDNN on)');
  const cpu: BackendReport = {
    kind: 'native-cpu',
    tfBackend: 'tensorflow',
    package: '@tensorflow/tfjs-node',
    tensorflowVersion: '2.21.0',
    oneDNN: false,
    fallbackReason: 'the native addon of @tensorflow/tfjs-node-gpu is not built',
    fix: 'npm run setup:tensorflow -- --gpu',
  };
  assert.is(
    describeBackend(cpu),
    'native CPU (@tensorflow/tfjs-node, TensorFlow 2.21.0, oneDNN off); no GPU: the native addon of @tensorflow/tfjs-node-gpu is not built (fix: npm run setup:tensorflow -- --gpu)',
  );
  const js: BackendReport = {
    kind: 'pure-js',
    tfBackend: 'cpu',
    package: '@tensorflow/tfjs',
    fallbackReason: 'x',
    fix: 'npm run setup:tensorflow',
  };
  assert.is(describeBackend(js), "pure JS ('cpu' backend, about 100x slower than native): x; fix: npm run setup:tensorflow");
  for (const r of [gpu, cpu, js]) assert.not.match(describeBackend(r), /\n/);
});

test.run();

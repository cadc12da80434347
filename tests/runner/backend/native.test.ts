// Why a native addon does not load, told precisely: real files for the loader to fail on.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { explainLoadError, fixFor, locate, oneDnnEnabled } from '../../../runner/backend/native.ts';
import { fakePackage, probe, tempDir } from './helpers.ts';

test("the project's @tensorflow/tfjs-node is built: addon, libraries, stamp for this Node", () => {
  const layout = locate('@tensorflow/tfjs-node');
  assert.ok(!('reason' in layout), `not built: ${JSON.stringify(layout)} (CI runs npm run setup:tensorflow)`);
  if ('reason' in layout) return;
  assert.match(layout.addon, /lib\/napi-v\d+\/tfjs_binding\.node$/);
  assert.is(layout.builtForAbi, process.versions.modules);
});

test('a package that is not installed: says so, fix is the setup', () => {
  const t = tempDir('runner-native-');
  try {
    const p = locate('@tensorflow/tfjs-node', t.dir);
    assert.ok('reason' in p);
    if (!('reason' in p)) return;
    assert.match(p.reason, /is not installed/);
    assert.match(p.fix, /npm run setup/);
  } finally {
    t.remove();
  }
});

test('no addon (npm ci without the setup): "not built", fix npm run setup:tensorflow', () => {
  const t = tempDir('runner-native-');
  try {
    const p = locate('@tensorflow/tfjs-node', fakePackage(t.dir, { libs: true }));
    assert.ok('reason' in p);
    if (!('reason' in p)) return;
    assert.match(p.reason, /native addon of @tensorflow\/tfjs-node is not built \(no .*tfjs_binding\.node\)/);
    assert.is(p.fix, 'npm run setup:tensorflow');
  } finally {
    t.remove();
  }
});

test('addon without deps/lib: the TensorFlow library is missing', () => {
  const t = tempDir('runner-native-');
  try {
    const p = locate('@tensorflow/tfjs-node', fakePackage(t.dir, { addon: 'copy' }));
    assert.ok('reason' in p);
    if ('reason' in p) assert.match(p.reason, /TensorFlow library of @tensorflow\/tfjs-node is missing/);
  } finally {
    t.remove();
  }
});

test('the real loader failing on a missing libtensorflow_cc.so.2 names the library', () => {
  const t = tempDir('runner-native-');
  try {
    const r = probe(['load', fakePackage(t.dir, { addon: 'copy', libs: true })]);
    const problem = r.json.problem as { reason: string; fix: string } | null;
    assert.ok(problem, `expected a problem: ${JSON.stringify(r.json)} ${r.stderr}`);
    assert.match(problem!.reason, /libtensorflow(_cc|_framework)?\.so[.\d]* could not be loaded by @tensorflow\/tfjs-node's addon/);
    assert.is(problem!.fix, 'npm run setup:tensorflow');
  } finally {
    t.remove();
  }
});

test('an addon built for another Node ABI (per the setup stamp) that fails to load: wrong Node ABI', () => {
  const t = tempDir('runner-native-');
  try {
    const r = probe(['load', fakePackage(t.dir, { addon: 'garbage', libs: true, stamp: 'layout=1 node_abi=1' })]);
    const problem = r.json.problem as { reason: string } | null;
    assert.ok(problem, JSON.stringify(r.json));
    assert.match(
      problem!.reason,
      new RegExp(`wrong Node ABI: .* built for Node ABI 1, this is Node ${process.version} \\(ABI ${process.versions.modules}\\)`),
    );
  } finally {
    t.remove();
  }
});

test('explainLoadError: CUDA libraries, the C++ runtime, anything else', () => {
  const at = { pkg: '@tensorflow/tfjs-node-gpu' as const };
  assert.match(
    explainLoadError(new Error('libcudnn.so.9: cannot open shared object file: No such file or directory'), at),
    /^the CUDA library libcudnn\.so\.9 could not be loaded/,
  );
  assert.match(
    explainLoadError(new Error("/lib/x86_64-linux-gnu/libstdc++.so.6: version `GLIBCXX_3.4.30' not found"), at),
    /C\/C\+\+ runtime is too old/,
  );
  assert.match(
    explainLoadError(new Error('something else\nstack'), at),
    /^the addon of @tensorflow\/tfjs-node-gpu failed to load: something else$/,
  );
  assert.is(fixFor('@tensorflow/tfjs-node-gpu'), 'npm run setup:tensorflow -- --gpu');
});

test('oneDNN: on by default, off with TF_ENABLE_ONEDNN_OPTS=0 or false', () => {
  assert.is(oneDnnEnabled({}), true);
  assert.is(oneDnnEnabled({ TF_ENABLE_ONEDNN_OPTS: '0' }), false);
  assert.is(oneDnnEnabled({ TF_ENABLE_ONEDNN_OPTS: 'False' }), false);
  assert.is(oneDnnEnabled({ TF_ENABLE_ONEDNN_OPTS: '1' }), true);
});

test.run();

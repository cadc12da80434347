// scripts/setup-tensorflow.sh: idempotent when everything is in place; the --gpu path as a dry run
// (it cannot be run to its end without a GPU machine's 3 GB of CUDA libraries).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from './helpers.ts';

const SCRIPT = join(ROOT, 'scripts/setup-tensorflow.sh');
const CPU_PKG = join(ROOT, 'node_modules/@tensorflow/tfjs-node');
const GPU_PKG = join(ROOT, 'node_modules/@tensorflow/tfjs-node-gpu');

function setup(args: string[], env: NodeJS.ProcessEnv = {}) {
  const started = performance.now();
  const r = spawnSync('bash', [SCRIPT, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { ...r, ms: performance.now() - started };
}

/** Names, sizes and times of a folder's entries, to see that nothing changed. */
function snapshot(dir: string): string {
  if (!existsSync(dir)) return '(none)';
  return readdirSync(dir, { recursive: true })
    .map(String)
    .sort()
    .map((p) => {
      const s = statSync(join(dir, p), { throwIfNoEntry: false });
      return `${p} ${s?.size} ${s?.mtimeMs}`;
    })
    .join('\n');
}

test('a second run with everything in place does nothing, in well under a few seconds', () => {
  const before = snapshot(join(CPU_PKG, 'deps')) + snapshot(join(CPU_PKG, 'lib'));
  const r = setup([]);
  assert.is(r.status, 0, r.stderr);
  assert.ok(r.ms < 3000, `took ${Math.round(r.ms)} ms`);
  assert.is(r.stdout + r.stderr, '', 'prints nothing when there is nothing to do');
  assert.is(snapshot(join(CPU_PKG, 'deps')) + snapshot(join(CPU_PKG, 'lib')), before);
});

test('--gpu --dry-run --force prints the whole GPU path and changes nothing', () => {
  const cache = tempDir('runner-setup-');
  try {
    const before = snapshot(GPU_PKG);
    const r = setup(['--gpu', '--dry-run', '--force'], { RUNNER_TF_CACHE: cache.dir });
    assert.is(r.status, 0, r.stderr);
    const out = r.stdout;
    assert.match(out, /pip download .*--no-deps .*--platform manylinux_2_27_x86_64 .*tensorflow==2\.21\.0/);
    assert.match(out, /strip --strip-unneeded -o \S+\/gpu\.tmp\/lib\/libtensorflow_cc\.so\.2/);
    assert.match(out, /pip install .*--require-hashes .*-r \S+scripts\/tensorflow\/requirements-cuda\.txt/);
    assert.match(out, /ln -s \S+\/cuda\/nvidia \S+tfjs-node-gpu\/deps\/nvidia/);
    assert.match(out, /ln -s libtensorflow_cc\.so\.2 \S+tfjs-node-gpu\/deps\/lib\/libtensorflow\.so\.2\.9\.1/);
    assert.match(out, /npm_config_nodedir=\S+ .*node-pre-gyp install --directory=\S+tfjs-node-gpu --build-from-source/);
    assert.match(out, /LD_LIBRARY_PATH=/);
    assert.is(snapshot(GPU_PKG), before);
    assert.equal(
      readdirSync(cache.dir).filter((f) => f !== '.lock'),
      [],
    );
  } finally {
    cache.remove();
  }
});

test('the CUDA wheels are pinned with hashes to the ranges of tensorflow[and-cuda]==2.21.0', () => {
  const req = spawnSync(
    'grep',
    ['-c', '^nvidia-.*-cu12==.* --hash=sha256:[0-9a-f]\\{64\\}$', join(ROOT, 'scripts/tensorflow/requirements-cuda.txt')],
    { encoding: 'utf8' },
  );
  assert.is(req.stdout.trim(), '12');
});

test('an unknown option: exit 2 with a hint', () => {
  const r = setup(['--gpus']);
  assert.is(r.status, 2);
  assert.match(r.stderr, /unknown option '--gpus'/);
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CUDA_SONAMES, cudaLibraryDirs, missingCudaLibraries, missingFromLibraryPath } from '../../../runner/backend/cuda.ts';
import { tempDir } from './helpers.ts';

test('cudaLibraryDirs: deps/nvidia/*/lib through the link the GPU setup makes, resolved and sorted', () => {
  const t = tempDir('runner-cuda-');
  try {
    const cache = join(t.dir, 'cache/nvidia');
    for (const name of ['cudnn', 'cublas', 'no_lib_here'])
      mkdirSync(join(cache, name, name === 'no_lib_here' ? 'bin' : 'lib'), { recursive: true });
    const pkg = join(t.dir, 'pkg');
    mkdirSync(join(pkg, 'deps'), { recursive: true });
    assert.equal(cudaLibraryDirs(pkg), []);
    symlinkSync(cache, join(pkg, 'deps/nvidia'));
    const real = realpathSync(cache);
    assert.equal(cudaLibraryDirs(pkg), [join(real, 'cublas/lib'), join(real, 'cudnn/lib')]);
  } finally {
    t.remove();
  }
});

test('missingFromLibraryPath compares resolved paths', () => {
  const t = tempDir('runner-cuda-');
  try {
    const a = join(t.dir, 'a'),
      b = join(t.dir, 'b');
    mkdirSync(a);
    mkdirSync(b);
    symlinkSync(a, join(t.dir, 'link-to-a'));
    const dirs = [realpathSync(a), realpathSync(b)];
    assert.equal(missingFromLibraryPath(dirs, {}), dirs);
    assert.equal(missingFromLibraryPath(dirs, { LD_LIBRARY_PATH: `${join(t.dir, 'link-to-a')}::/usr/lib` }), [realpathSync(b)]);
    assert.equal(missingFromLibraryPath(dirs, { LD_LIBRARY_PATH: `${b}:${a}` }), []);
  } finally {
    t.remove();
  }
});

test('missingCudaLibraries: the sonames TensorFlow opens, looked up in every folder', () => {
  const t = tempDir('runner-cuda-');
  try {
    const a = join(t.dir, 'a'), b = join(t.dir, 'b');
    mkdirSync(a); mkdirSync(b);
    assert.equal(missingCudaLibraries([a, b]), CUDA_SONAMES);
    for (const so of CUDA_SONAMES.slice(0, 3)) writeFileSync(join(a, so), '');
    for (const so of CUDA_SONAMES.slice(4)) writeFileSync(join(b, so), '');
    assert.equal(missingCudaLibraries([a, b]), [CUDA_SONAMES[3]]);
  } finally { t.remove(); }
});

test.run();

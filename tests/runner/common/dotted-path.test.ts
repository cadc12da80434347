import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isAncestorPath, pathProblem } from '../../../runner/common/dotted-path.ts';

const valid = ['lr', 'optimizer.lr', 'model.kernel_sizes.0', '_private.x-y', 'a.B.c9'];
const invalid = ['', '0.lr', 'optimizer..lr', '.lr', 'lr.', 'a b', 'optimizer.lr!', 'sweep', 'sweep.seed', 'a.__proto__.b'];

for (const path of valid) test(`valid path ${path}`, () => assert.is(pathProblem(path), null));
for (const path of invalid) test(`invalid path ${JSON.stringify(path)}`, () => assert.type(pathProblem(path), 'string'));

test('isAncestorPath', () => {
  assert.ok(isAncestorPath('optimizer', 'optimizer.lr'));
  assert.ok(isAncestorPath('model', 'model.layers.0.units'));
  assert.not.ok(isAncestorPath('optimizer', 'optimizer'));
  assert.not.ok(isAncestorPath('opt', 'optimizer.lr'));
  assert.not.ok(isAncestorPath('optimizer.lr', 'optimizer'));
});

test.run();

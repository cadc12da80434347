import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import * as tf from '@tensorflow/tfjs';
import { optimizers } from '../../../components/optimizer/index.ts';
import { GroupedOptimizer, variableOf } from '../../../runner/train/optimizer.ts';
import { resolveParamGroups } from '../../../runner/train/param-groups.ts';

const context = { configDir: '.', warn() {} };

/** A one-layer model whose kernel we set, and gradients of a fixed quadratic loss. */
function setup(optimizerConfig: Record<string, unknown> & { type: string }) {
  const input = tf.input({ shape: [2] });
  const model = tf.model({
    inputs: input,
    outputs: tf.layers.dense({ units: 1, useBias: false, name: 'w' }).apply(input) as tf.SymbolicTensor,
  });
  model.getLayer('w').setWeights([tf.tensor2d([[1], [-2]])]);
  const spec = optimizers.build(optimizerConfig, context);
  const plan = resolveParamGroups(model, { lr: spec.lr, weightDecay: spec.weightDecay, groups: spec.paramGroups });
  const optimizer = new GroupedOptimizer(spec.rule, plan.groups);
  const kernel = variableOf(model.getLayer('w').trainableWeights[0]!);
  const step = (grad: number[]) => optimizer.apply({ [kernel.name]: tf.tensor2d(grad, [2, 1]) });
  return { read: () => Array.from(kernel.dataSync()), step, optimizer };
}

const close = (actual: number[], expected: number[]) =>
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]!) < 1e-5, `${actual} vs ${expected}`));

/** PyTorch's Adam, written out for scalars. */
function referenceAdam(p: number[], grads: number[][], lr: number, b1: number, b2: number, eps: number, wd: number): number[] {
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  grads.forEach((g, t) => {
    p.forEach((_, i) => {
      const gi = g[i]! + wd * p[i]!;
      m[i] = b1 * m[i]! + (1 - b1) * gi;
      v[i] = b2 * v[i]! + (1 - b2) * gi * gi;
      const mHat = m[i]! / (1 - b1 ** (t + 1));
      const vHat = v[i]! / (1 - b2 ** (t + 1));
      p[i] = p[i]! - (lr * mHat) / (Math.sqrt(vHat) + eps);
    });
  });
  return p;
}

test('adam matches the PyTorch update rule, with weight decay', () => {
  const grads = [
    [0.5, -1],
    [0.2, 0.3],
    [-0.4, 0.1],
  ];
  const { read, step } = setup({ type: 'adam', lr: 0.1, weight_decay: 0.01 });
  grads.forEach(step);
  close(read(), referenceAdam([1, -2], grads, 0.1, 0.9, 0.999, 1e-8, 0.01));
});

test('sgd with momentum (buffer starts at the first gradient) and nesterov', () => {
  const grads = [
    [1, 2],
    [0.5, -1],
  ];
  const plain = setup({ type: 'sgd', lr: 0.1, momentum: 0.9 });
  grads.forEach(plain.step);
  // buf1 = g1; p1 = p0 - lr*g1; buf2 = 0.9*buf1 + g2; p2 = p1 - lr*buf2
  close(plain.read(), [1 - 0.1 * 1 - 0.1 * (0.9 * 1 + 0.5), -2 - 0.1 * 2 - 0.1 * (0.9 * 2 - 1)]);
  const nesterov = setup({ type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true, weight_decay: 0.5 });
  nesterov.step([1, 2]);
  // g = grad + wd*p = [1.5, 1]; buf = g; step = g + 0.9*buf = 1.9*g
  close(nesterov.read(), [1 - 0.1 * 1.9 * 1.5, -2 - 0.1 * 1.9 * 1]);
});

test('per-group learning rates: lr_mult scales the update of the matched group only', () => {
  const { read, step } = setup({ type: 'sgd', lr: 0.1, param_groups: [{ match: ['^w/'], lr_mult: 10 }] });
  step([1, 1]);
  close(read(), [0, -3]);
});

test('frozen groups are never updated; optimizer state is released', () => {
  const frozen = setup({ type: 'adam', param_groups: [{ match: ['^w/'], trainable: false }] });
  frozen.step([1, 1]);
  close(frozen.read(), [1, -2]);
  assert.equal(frozen.optimizer.slotVariables(), [], 'a frozen variable has no optimizer state');
  const trained = setup({ type: 'adam' });
  trained.step([1, 1]);
  assert.equal(
    trained.optimizer.slotVariables().map((s) => s.name.replace(/^.*\//, '')),
    ['exp_avg', 'exp_avg_sq'],
  );
  const before = tf.memory().numTensors;
  trained.optimizer.dispose();
  assert.is(tf.memory().numTensors, before - 2, 'dispose() frees both Adam moments');
});

test.run();

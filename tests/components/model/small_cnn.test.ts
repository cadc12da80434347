import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import * as tf from '@tensorflow/tfjs';
import { models } from '../../../components/model/index.ts';
import { UserError } from '../../../runner/errors.ts';
import { withSeededMathRandom } from '../../../runner/train/random.ts';
import { assertSameAfterSaveLoad, separableImages, sgdFor, trainSteps } from './image-helpers.ts';

test('small_cnn: conv-BN-ReLU-pool stages, then the head_* layers; logits per class', async () => {
  const model = await models.build(
    { type: 'small_cnn', channels: [4, 8], head: { units: [5], dropout: 0.2 } },
    { numClasses: 3, inputShape: [16, 16, 3] },
  );
  assert.equal(model.outputs[0]!.shape, [null, 3]);
  assert.equal(
    model.layers.map((l) => l.name),
    [
      'image',
      'conv1',
      'conv1_bn',
      'conv1_relu',
      'pool1',
      'conv2',
      'conv2_bn',
      'conv2_relu',
      'pool2',
      'head_pool',
      'head_dense_0',
      'head_dropout',
      'head_logits',
    ],
  );
  model.dispose();
  await assert.throws(
    () => models.build({ type: 'small_cnn' }, { numClasses: 2, inputShape: [40], vocabSize: 100 }),
    (e: unknown) => e instanceof UserError,
  );
});

test('small_cnn learns a separable task with the head at 10× and survives save/load', async () => {
  await withSeededMathRandom(3, async () => {
    const model = await models.build({ type: 'small_cnn', channels: [4, 8] }, { numClasses: 2, inputShape: [12, 12, 3] });
    const { x, y } = separableImages(32, 12);
    const { optimizer, plan } = sgdFor(model, 0.05, 0.001, [{ name: 'head', match: ['^head_'], lr_mult: 10 }]);
    assert.equal(
      plan.groups[1]!.variables.map((v) => v.originalName),
      ['head_logits/kernel', 'head_logits/bias'],
    );
    const losses = trainSteps(model, optimizer, x, y, 30);
    assert.ok(losses.at(-1)! < losses[0]! * 0.5, `loss ${losses[0]} → ${losses.at(-1)}`);
    await assertSameAfterSaveLoad(model, x);
    for (const t of [x, y]) t.dispose();
    optimizer.dispose();
    model.dispose();
  });
});

test.run();

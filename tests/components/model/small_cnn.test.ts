import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import { models } from '../../../components/model/index.ts';
import { UserError } from '../../../runner/errors.ts';
import { withSeededMathRandom } from '../../../runner/train/random.ts';
import { assertTrainSaveLoad } from './image-helpers.ts';

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
    const groups = [{ name: 'head', match: ['^head_'], lr_mult: 10 }];
    const plan = await assertTrainSaveLoad(model, { images: 32, lr: 0.05, weightDecay: 0.001, groups, steps: 30 });
    assert.equal(
      plan.groups[1]!.variables.map((v) => v.originalName),
      ['head_logits/kernel', 'head_logits/bias'],
    );
    model.dispose();
  });
});

test.run();

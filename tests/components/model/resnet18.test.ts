import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import { models } from '../../../components/model/index.ts';
import { withSeededMathRandom } from '../../../runner/train/random.ts';
import { assertTrainSaveLoad } from './image-helpers.ts';

test('resnet18 (10 classes) has the 11,181,642 trainable parameters of torchvision resnet18(num_classes=10)', async () => {
  const model = await models.build({ type: 'resnet18' }, { numClasses: 10, inputShape: [64, 64, 3] });
  const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  assert.is(
    model.trainableWeights.reduce((n, w) => n + size(w.shape as number[]), 0),
    11181642,
  );
  // Plus the batch norms' moving mean and variance (torchvision buffers): 2 × 4,800 channels.
  assert.is(model.countParams(), 11181642 + 9600);
  // 224 → 112 (stem) → 56 (pool) → 56, 28, 14, 7 by stage.
  const big = await models.build({ type: 'resnet18', widths: [8, 8, 8, 8] }, { numClasses: 2, inputShape: [224, 224, 3] });
  assert.equal(big.getLayer('stage4_block2_out').outputShape, [null, 7, 7, 8]);
  assert.ok(big.getLayer('stage2_block1_shortcut'), 'a strided 1×1 shortcut where the shape changes');
  model.dispose();
  big.dispose();
});

test('resnet18 with the small stem learns a separable task, and survives save/load', async () => {
  await withSeededMathRandom(2, async () => {
    const model = await models.build({ type: 'resnet18', widths: [4, 8, 8, 8], stem: 'small' }, { numClasses: 2, inputShape: [16, 16, 3] });
    await assertTrainSaveLoad(model, { images: 16, lr: 0.05, weightDecay: 0.001, groups: [{ match: ['^head_'], lr_mult: 10 }], steps: 15 });
    model.dispose();
  });
});

test.run();

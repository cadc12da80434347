import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { models } from '../../../components/model/index.ts';
import { withSeededMathRandom } from '../../../runner/train/random.ts';
import { PROJECT_ROOT } from '../../helpers/files.ts';
import { assertTrainSaveLoad } from './image-helpers.ts';

test('mobilenet_v1 (alpha 1, 1000 classes) has the 4,253,864 parameters of Keras MobileNet', async () => {
  const model = await models.build({ type: 'mobilenet_v1' }, { numClasses: 1000, inputShape: [224, 224, 3] });
  assert.is(model.countParams(), 4253864);
  assert.equal(model.getLayer('conv_pw_13').getWeights()[0]!.shape, [1, 1, 1024, 1024]);
  assert.equal(model.outputs[0]!.shape, [null, 1000]);
  model.dispose();
});

const pretrainedJson = join(PROJECT_ROOT, '..', 'shared', 'data', 'mobilenet_v1_0.75_224', 'model.json');

test('alpha 0.75: every body weight has the name and shape of the pretrained TF.js MobileNet (when its model.json is present)', async () => {
  if (!existsSync(pretrainedJson)) return;
  const manifest = (
    JSON.parse(readFileSync(pretrainedJson, 'utf8')) as { weightsManifest: { weights: { name: string; shape: number[] }[] }[] }
  ).weightsManifest
    .flatMap((g) => g.weights)
    .filter((w) => !w.name.startsWith('conv_preds'));
  const model = await models.build({ type: 'mobilenet_v1', alpha: 0.75 }, { numClasses: 2, inputShape: [224, 224, 3] });
  const ours = new Map(model.weights.map((w) => [w.originalName, w.shape]));
  assert.is(manifest.length, 135);
  for (const weight of manifest) assert.equal(ours.get(weight.name), weight.shape, weight.name);
  model.dispose();
});

test('mobilenet_v1 from scratch learns a separable task (one learning rate), and survives save/load', async () => {
  await withSeededMathRandom(1, async () => {
    const model = await models.build({ type: 'mobilenet_v1', alpha: 0.25 }, { numClasses: 2, inputShape: [32, 32, 3] });
    await assertTrainSaveLoad(model, { images: 16, lr: 0.05, weightDecay: 0, groups: [], steps: 15 });
    model.dispose();
  });
});

test.run();

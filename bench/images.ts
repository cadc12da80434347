// Image input pipeline: decoding, per-batch augmentation, and the share of a training step spent on data.
//
//   node --import tsx bench/images.ts [ARCHIVE] [--decode N] [--steps N]
//
// 1. Decodes the first N JPEGs of the archive (default 400) with TensorFlow's decoder and with the
//    pure-JS fallback, resized to the stored 256×256 (what image_folder does once per run).
// 2. Times training batches of the finetune pipeline (256 → random_resized_crop 224, flip, normalize;
//    batch 32), the same with color_jitter, and the augment pipeline (64 px, flip, normalize; batch 64),
//    against a training step of the model each is for (MobileNet v1 0.75 fine-tuning; small_cnn).
// Prints per-stage times and the data share = batch time / (batch time + step time).
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { decodeInto, hasNativeDecoder } from '../components/dataset/image-decode.ts';
import { readTarFile } from '../components/dataset/tar.ts';
import { models } from '../components/model/index.ts';
import { describeBackend, selectBackend } from '../runner/backend/select.ts';
import { buildAugmentations, stepsOfKind } from '../runner/data/augment.ts';
import { imageBatchSources } from '../runner/data/image-pipeline.ts';
import type { ImageDataset } from '../runner/data/types.ts';
import { GroupedOptimizer } from '../runner/train/optimizer.ts';
import { resolveParamGroups } from '../runner/train/param-groups.ts';
import { optimizers } from '../components/optimizer/index.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : fallback);
const archive = resolve(
  args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--')) ?? join(root, '../shared/data/cats_vs_dogs_4k.tar'),
);
const decodeCount = Number(option('--decode', '400'));
const steps = Number(option('--steps', '5'));
const context = { configDir: root, warn: (m: string) => console.warn(m) };

const backend = await selectBackend('auto', { warn: () => {} });
console.log(`backend: ${describeBackend(backend)}; ${tf.env().platformName ?? ''}`);

// 1. Decoding.
const jpegs: Uint8Array[] = [];
await readTarFile(archive, ({ name, data }) => {
  if (/\/train\/.*\.jpe?g$/i.test(name) && jpegs.length < decodeCount) jpegs.push(data.slice());
});
const stored = new Uint8Array(256 * 256 * 3);
for (const decoder of hasNativeDecoder() ? (['auto', 'js'] as const) : (['js'] as const)) {
  const start = performance.now();
  for (const bytes of jpegs) decodeInto(bytes, stored, [256, 256], 'crop', decoder);
  const ms = (performance.now() - start) / jpegs.length;
  console.log(
    `decode ${decoder === 'auto' ? 'native' : 'pure JS'}: ${ms.toFixed(2)} ms/image (${(1000 / ms).toFixed(0)} images/s) over ${jpegs.length} JPEGs`,
  );
}

/** A synthetic stored dataset of `count` random images (the pipeline cost does not depend on content). */
function storedDataset(count: number, size: number): ImageDataset {
  const pixels = new Uint8Array(count * size * size * 3);
  for (let i = 0; i < pixels.length; i += 4099) pixels[i] = i % 251;
  const split = { pixels, labels: Int32Array.from({ length: count }, (_, i) => i % 2), files: [] };
  return { kind: 'image', classes: ['a', 'b'], imageShape: [size, size, 3], train: split, test: split, source: 'bench' };
}

/** Mean milliseconds of `fn` over `n` runs after one warm-up. */
function time(n: number, fn: () => void): number {
  fn();
  const start = performance.now();
  for (let i = 0; i < n; i++) fn();
  return (performance.now() - start) / n;
}

async function stepTime(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor1D): Promise<number> {
  const spec = optimizers.build(
    { type: 'sgd', lr: 0.001, weight_decay: 0.001, param_groups: [{ match: ['^head_'], lr_mult: 10 }] },
    context,
  );
  const plan = resolveParamGroups(model, { lr: spec.lr, weightDecay: spec.weightDecay, groups: spec.paramGroups });
  const optimizer = new GroupedOptimizer(spec.rule, plan.groups);
  const variables = optimizer.trainableVariables();
  const ms = time(steps, () => {
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(tf.oneHot(y, 2), model.apply(x, { training: true }) as tf.Tensor2D) as tf.Scalar,
        variables,
      );
      optimizer.apply(grads);
      value.dataSync();
    });
  });
  optimizer.dispose();
  return ms;
}

const finetune = [
  { type: 'random_resized_crop', size: 224 },
  { type: 'random_horizontal_flip' },
  { type: 'center_crop', size: 224, apply_to: 'test' },
  { type: 'normalize', scale: [-1, 1] },
];
const cases = [
  { name: 'finetune (MobileNet v1 0.75, 224 px, batch 32)', size: 256, batch: 32, steps: finetune, model: 'mobilenet' },
  {
    name: 'finetune + color_jitter(0.4, 0.4, 0.4, 0.1)',
    size: 256,
    batch: 32,
    steps: [
      finetune[0]!,
      finetune[1]!,
      { type: 'color_jitter', brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 },
      ...finetune.slice(2),
    ],
    model: 'mobilenet',
  },
  {
    name: 'augment (small_cnn, 64 px, batch 64)',
    size: 64,
    batch: 64,
    steps: [{ type: 'random_horizontal_flip' }, { type: 'normalize', scale: [-1, 1] }],
    model: 'small_cnn',
  },
];
const stepMs = new Map<string, number>();
for (const c of cases) {
  const sources = imageBatchSources(storedDataset(256, c.size), stepsOfKind(buildAugmentations(c.steps, context), 'image'), 0);
  let at = 0;
  const next = () => Int32Array.from({ length: c.batch }, () => at++ % 256);
  const batchMs = time(20, () => tf.tidy(() => void sources.train.batch(next(), true).x.dataSync()));
  const evalMs = time(10, () => tf.tidy(() => void sources.test.batch(next(), false).x.dataSync()));
  if (!stepMs.has(c.model)) {
    const model =
      c.model === 'mobilenet'
        ? await models.build(
            {
              type: 'pretrained',
              path: join(root, '../shared/data/mobilenet_v1_0.75_224/model.json'),
              cut_at: 'global_average_pooling2d_1',
              head: { dropout: 0.2 },
            },
            { numClasses: 2, inputShape: sources.inputShape },
          )
        : await models.build(
            { type: 'small_cnn', channels: [32, 64, 128], head: { dropout: 0.3 } },
            { numClasses: 2, inputShape: sources.inputShape },
          );
    const { x, y } = sources.train.batch(next(), true);
    stepMs.set(c.model, await stepTime(model, x, y));
    tf.dispose([x, y]);
    model.dispose();
  }
  const step = stepMs.get(c.model)!;
  console.log(
    `${c.name}: training batch ${batchMs.toFixed(1)} ms, evaluation batch ${evalMs.toFixed(1)} ms, ` +
      `training step ${step.toFixed(0)} ms → data share ${((100 * batchMs) / (batchMs + step)).toFixed(2)}%`,
  );
}

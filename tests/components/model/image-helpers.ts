import * as tf from '@tensorflow/tfjs';
import * as assert from 'uvu/assert';
import { optimizers } from '../../../components/optimizer/index.ts';
import { loadModel, saveModel } from '../../../runner/run/model-io.ts';
import { GroupedOptimizer } from '../../../runner/train/optimizer.ts';
import { resolveParamGroups, type ParamGroupConfig } from '../../../runner/train/param-groups.ts';
import { tempDir } from '../../helpers/files.ts';

/** `n` images `[n, size, size, 3]` in [-1, 1]: class 0 bright at the top, class 1 bright at the bottom (plus noise). */
export function separableImages(n: number, size: number, seed = 1): { x: tf.Tensor4D; y: tf.Tensor1D } {
  return tf.tidy(() => {
    const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
    const rows = tf.linspace(-1, 1, size).reshape([1, size, 1, 1]);
    const sign = tf.tensor1d(Float32Array.from(labels, (l) => (l === 0 ? -1 : 1))).reshape([n, 1, 1, 1]);
    const noise = tf.randomUniform([n, size, size, 3], -0.3, 0.3, 'float32', seed);
    return { x: tf.clipByValue(tf.add(tf.mul(rows, sign), noise), -1, 1) as tf.Tensor4D, y: tf.tensor1d(labels, 'int32') };
  });
}

/** SGD (lr, weight decay) with param groups over `model`, as a config would build it. */
export function sgdFor(model: tf.LayersModel, lr: number, weightDecay: number, groups: ParamGroupConfig[]) {
  const spec = optimizers.build({ type: 'sgd', lr, weight_decay: weightDecay, param_groups: groups }, { configDir: '.', warn() {} });
  const plan = resolveParamGroups(model, { lr: spec.lr, weightDecay: spec.weightDecay, groups: spec.paramGroups });
  return { plan, optimizer: new GroupedOptimizer(spec.rule, plan.groups) };
}

/** Runs `steps` training steps on one batch; returns the losses. */
export function trainSteps(model: tf.LayersModel, optimizer: GroupedOptimizer, x: tf.Tensor, y: tf.Tensor1D, steps: number): number[] {
  const variables = optimizer.trainableVariables();
  const classes = model.outputs[0]!.shape[1]!;
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(tf.oneHot(y, classes), model.apply(x, { training: true }) as tf.Tensor2D) as tf.Scalar,
        variables,
      );
      optimizer.apply(grads);
      return value;
    });
    losses.push(loss.dataSync()[0]!);
    loss.dispose();
  }
  return losses;
}

/** The values of a model's weight by its layer/weight name. */
export function weightValues(model: tf.LayersModel, name: string): Float32Array {
  const weight = model.weights.find((w) => w.originalName === name);
  if (!weight) throw new Error(`no weight ${name}`);
  return weight.read().dataSync() as Float32Array;
}

/** Saves `model` the way a run does, loads it back in this process and asserts both predict the same on `x`. */
export async function assertSameAfterSaveLoad(model: tf.LayersModel, x: tf.Tensor): Promise<void> {
  const dir = tempDir();
  await saveModel(model, dir);
  const loaded = await loadModel(dir);
  const [before, after] = tf.tidy(() => [model, loaded].map((m) => Array.from((m.predict(x) as tf.Tensor).dataSync())));
  loaded.dispose();
  assert.is(after!.length, before!.length);
  before!.forEach((v, i) => assert.ok(Math.abs(v - after![i]!) < 1e-5, `prediction ${i}: ${v} before saving, ${after![i]} after loading`));
}

/** What `assertTrainSaveLoad` does: the optimizer's settings, the images and the number of steps. */
export interface TrainSaveLoadCase {
  images: number;
  lr: number;
  weightDecay: number;
  groups: ParamGroupConfig[];
  steps: number;
}

/**
 * The train-save-load check every image model gets: `steps` SGD steps on separable images halve the loss, then
 * the model saves, loads and predicts the same. Returns the optimizer's plan for further checks; disposes the rest.
 */
export async function assertTrainSaveLoad(model: tf.LayersModel, options: TrainSaveLoadCase) {
  const size = model.inputs[0]!.shape[1]!;
  const { x, y } = separableImages(options.images, size);
  const { optimizer, plan } = sgdFor(model, options.lr, options.weightDecay, options.groups);
  const losses = trainSteps(model, optimizer, x, y, options.steps);
  assert.ok(losses.at(-1)! < losses[0]! * 0.5, `loss ${losses[0]} → ${losses.at(-1)}`);
  await assertSameAfterSaveLoad(model, x);
  for (const t of [x, y]) t.dispose();
  optimizer.dispose();
  return plan;
}

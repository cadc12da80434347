// Image training and evaluation throughput: the runner's loop against PyTorch (bench/image_train.py) on the
// same networks, shapes and optimizer, alternating in one run, with ratios.
//
//   node --import tsx bench/image-train.ts [--models mobilenet_v1,resnet18,small_cnn] [--rounds 3] [--steps 5]
//     [--eval-batches 2] [--unfused] [--no-python]
//
// Runner side: trainLoop (shuffled batches gathered on the backend, grouped SGD with weight decay and a
// ×10 head group, no per-step read-back) over random images; the first call warms up, then each round
// times one epoch of `steps` steps (examples_per_sec of the loop) and `evaluate` on eval batches of 100.
// mobilenet_v1 is the fine-tune model itself (the pretrained MobileNet v1 0.75 from ../shared/data, cut
// at its pooling layer, new head) when that file is there, else the same network from scratch.
// --unfused also times the runner with RUNNER_FUSED_KERNELS=0 (tfjs's own batch norm and ReLU
// gradients) in the same rounds: the before/after of runner/backend/fused-training.ts.
// Prints the load average before it starts; a ratio counts only from a quiet machine (load < 1.5).
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { models } from '../components/model/index.ts';
import { optimizers } from '../components/optimizer/index.ts';
import { describeBackend, selectBackend } from '../runner/backend/select.ts';
import { TensorBatchSource } from '../runner/data/batches.ts';
import type { PreparedData } from '../runner/data/types.ts';
import { evaluate, trainLoop } from '../runner/train/loop.ts';
import { GroupedOptimizer } from '../runner/train/optimizer.ts';
import { resolveParamGroups } from '../runner/train/param-groups.ts';
import { withSeededMathRandom } from '../runner/train/random.ts';
import { loadAverage, median, root, runPeer } from './peer.ts';
import { join } from 'node:path';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : fallback);
const wanted = option('--models', 'mobilenet_v1,resnet18,small_cnn').split(',');
const rounds = Number(option('--rounds', '3'));
const steps = Number(option('--steps', '5'));
const evalBatches = Number(option('--eval-batches', '2'));
const EVAL_BATCH = 100;
const pretrainedPath = join(root, '../shared/data/mobilenet_v1_0.75_224/model.json');

const SHAPES: Record<string, { size: number; batch: number; model: Record<string, unknown> & { type: string } }> = {
  mobilenet_v1: {
    size: 224,
    batch: 32,
    model: existsSync(pretrainedPath)
      ? { type: 'pretrained', path: pretrainedPath, cut_at: 'global_average_pooling2d_1', head: { dropout: 0.2 } }
      : { type: 'mobilenet_v1', alpha: 0.75, head: { dropout: 0.2 } },
  },
  resnet18: { size: 224, batch: 32, model: { type: 'resnet18' } },
  small_cnn: { size: 64, batch: 64, model: { type: 'small_cnn' } },
};

/** Examples/s of training (loop) and of evaluation; `fused` sets RUNNER_FUSED_KERNELS for the call. */
interface Measurement {
  train: number;
  eval: number;
}

/** A model with its optimizer and data, built once and timed per round. */
async function prepare(name: string) {
  const { size, batch, model: modelConfig } = SHAPES[name]!;
  const count = steps * batch;
  const images = (n: number, seed: number) => tf.randomUniform([n, size, size, 3], -1, 1, 'float32', seed);
  const labels = (n: number) => Int32Array.from({ length: n }, (_, i) => i % 2);
  const data: PreparedData = {
    classes: ['cat', 'dog'],
    inputShape: [size, size, 3],
    train: new TensorBatchSource(images(count, 1), labels(count)),
    test: new TensorBatchSource(images(batch, 2), labels(batch)),
    dataSeconds: 0,
  };
  const evalSource = new TensorBatchSource(images(EVAL_BATCH * evalBatches, 3), labels(EVAL_BATCH * evalBatches));
  const model = await models.build(modelConfig, { numClasses: 2, inputShape: [size, size, 3] });
  const spec = optimizers.build(
    { type: 'sgd', lr: 0.002, weight_decay: 0.001, param_groups: [{ name: 'head', match: ['^head_'], lr_mult: 10 }] },
    { configDir: root, warn: console.warn },
  );
  const plan = resolveParamGroups(model, { lr: spec.lr, weightDecay: spec.weightDecay, groups: spec.paramGroups });
  const optimizer = new GroupedOptimizer(spec.rule, plan.groups);
  const loop = (maxSteps: number) =>
    trainLoop(
      model,
      optimizer,
      data,
      { epochs: 1, batchSize: batch, evalBatchSize: batch, shuffle: true, logEverySteps: 1000, seed: 0, maxStepsPerEpoch: maxSteps },
      { metrics() {} },
    );
  await withSeededMathRandom(0, () => loop(2)); // warm-up
  return {
    async measure(fused: boolean): Promise<Measurement> {
      process.env.RUNNER_FUSED_KERNELS = fused ? '1' : '0';
      const result = await withSeededMathRandom(0, () => loop(steps));
      evaluate(model, evalSource, 2, EVAL_BATCH); // warm-up
      const start = performance.now();
      if (evalBatches > 0) evaluate(model, evalSource, 2, EVAL_BATCH);
      const evalSeconds = (performance.now() - start) / 1000;
      delete process.env.RUNNER_FUSED_KERNELS;
      return { train: result.final.examples_per_sec!, eval: (EVAL_BATCH * evalBatches) / evalSeconds };
    },
    dispose() {
      optimizer.dispose();
      model.dispose();
      data.train.dispose();
      data.test.dispose();
      evalSource.dispose();
    },
  };
}

function torch(name: string): Measurement & { framework: string; threads: number } {
  const r = runPeer<{ framework: string; threads: number; examples_per_sec: number; eval_examples_per_sec: number }>(
    'image_train.py',
    name,
    steps,
    ['--eval-batches', String(evalBatches)],
  );
  return { framework: r.framework, threads: r.threads, train: r.examples_per_sec, eval: r.eval_examples_per_sec };
}

const load = loadAverage();
const backend = await selectBackend('cpu');
console.log(
  `backend: ${describeBackend(backend)}; load average before: ${load}; ${rounds} rounds of ${steps} steps, ${evalBatches}×${EVAL_BATCH} eval`,
);
for (const name of wanted) {
  const { size, batch, model } = SHAPES[name]!;
  const prepared = await prepare(name);
  const ours: Measurement[] = [];
  const unfused: Measurement[] = [];
  const peer: Measurement[] = [];
  let framework = '';
  for (let round = 1; round <= rounds; round++) {
    ours.push(await prepared.measure(true));
    if (args.includes('--unfused')) unfused.push(await prepared.measure(false));
    let line = `${name} round ${round}: runner train ${ours.at(-1)!.train.toFixed(1)} ex/s, eval ${ours.at(-1)!.eval.toFixed(1)} ex/s`;
    if (unfused.length) line += ` | unfused train ${unfused.at(-1)!.train.toFixed(1)}, eval ${unfused.at(-1)!.eval.toFixed(1)}`;
    if (!args.includes('--no-python')) {
      const t = torch(name);
      framework = `${t.framework}, ${t.threads} threads`;
      peer.push(t);
      line += ` | PyTorch train ${t.train.toFixed(1)}, eval ${t.eval.toFixed(1)}`;
    }
    console.log(line);
  }
  prepared.dispose();
  const m = (list: Measurement[], key: keyof Measurement) => median(list.map((r) => r[key]));
  let summary = `${name} (${model.type}, ${size}×${size}, batch ${batch}): medians runner train ${m(ours, 'train').toFixed(1)} ex/s, eval ${m(ours, 'eval').toFixed(1)} ex/s`;
  if (unfused.length)
    summary += `; unfused train ${m(unfused, 'train').toFixed(1)} (fused ${(m(ours, 'train') / m(unfused, 'train')).toFixed(2)}×)`;
  if (peer.length) {
    summary +=
      `; ${framework}: train ${m(peer, 'train').toFixed(1)}, eval ${m(peer, 'eval').toFixed(1)}` +
      ` | ratio runner/PyTorch train ${(m(ours, 'train') / m(peer, 'train')).toFixed(2)}×, eval ${(m(ours, 'eval') / m(peer, 'eval')).toFixed(2)}×`;
  }
  console.log(summary);
}
console.log(`load average after: ${loadAverage()}`);

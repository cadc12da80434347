// Per-op profile of one training step of an image model in the runner's step (forward, loss, gradients,
// grouped SGD update): which TensorFlow kernels take the time.
//
//   node --import tsx bench/profile-step.ts [--model mobilenet_v1|resnet18|small_cnn|textcnn|birnn] [--batch 32] [--size 224] [--steps 3]
//
// Image models read random [batch, size, size, 3] images and train with grouped SGD (head ×10, weight
// decay); text models read random token ids [batch, 500] from a 46,152-word vocabulary and train with Adam.
import * as tf from '@tensorflow/tfjs';
import { models } from '../components/model/index.ts';
import { optimizers } from '../components/optimizer/index.ts';
import { describeBackend, selectBackend } from '../runner/backend/select.ts';
import { GroupedOptimizer } from '../runner/train/optimizer.ts';
import { resolveParamGroups } from '../runner/train/param-groups.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : fallback);
const name = option('--model', 'mobilenet_v1');
const batch = Number(option('--batch', '32'));
const size = Number(option('--size', '224'));
const steps = Number(option('--steps', '3'));

const backend = await selectBackend('cpu');
console.log(`backend: ${describeBackend(backend)}; ${name}, batch ${batch}, ${size}×${size}`);
const text = name === 'textcnn' || name === 'birnn';
const [VOCAB, LEN] = [46152, 500];
const modelConfigs: Record<string, Record<string, unknown> & { type: string }> = {
  mobilenet_v1: { type: 'mobilenet_v1', alpha: 0.75 },
  resnet18: { type: 'resnet18' },
  small_cnn: { type: 'small_cnn' },
  textcnn: { type: 'textcnn' },
  birnn: { type: 'birnn', embed_size: 100, num_hiddens: 100, num_layers: 2 },
};
const model = await models.build(
  modelConfigs[name]!,
  text ? { numClasses: 2, inputShape: [LEN], vocabSize: VOCAB } : { numClasses: 2, inputShape: [size, size, 3] },
);
const spec = optimizers.build(
  text
    ? { type: 'adam', lr: 0.001 }
    : { type: 'sgd', lr: 0.002, weight_decay: 0.001, param_groups: [{ name: 'head', match: ['^head_'], lr_mult: 10 }] },
  { configDir: '.', warn: console.warn },
);
const plan = resolveParamGroups(model, { lr: spec.lr, weightDecay: spec.weightDecay, groups: spec.paramGroups });
const optimizer = new GroupedOptimizer(spec.rule, plan.groups);
const variables = optimizer.trainableVariables();
const x = text ? tf.randomUniform([batch, LEN], 0, VOCAB, 'int32') : tf.randomUniform([batch, size, size, 3], -1, 1);
const y = tf.tensor1d(
  Array.from({ length: batch }, (_, i) => i % 2),
  'int32',
);

function step(): void {
  tf.tidy(() => {
    const { grads } = tf.variableGrads(() => {
      const logits = model.apply(x, { training: true }) as tf.Tensor2D;
      return tf.losses.softmaxCrossEntropy(tf.oneHot(y, 2), logits);
    }, variables);
    optimizer.apply(grads);
  });
}

step();
const start = performance.now();
for (let i = 0; i < steps; i++) step();
const perStep = (performance.now() - start) / steps;
console.log(`step: ${perStep.toFixed(0)} ms (${((batch * 1000) / perStep).toFixed(1)} examples/s)`);

const profile = await tf.profile(() => step());
const byKernel = new Map<string, { ms: number; calls: number }>();
for (const k of profile.kernels) {
  const entry = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
  entry.ms += Number(await k.kernelTimeMs);
  entry.calls++;
  byKernel.set(k.name, entry);
}
const total = [...byKernel.values()].reduce((s, e) => s + e.ms, 0);
console.log(`profiled step: kernels ${total.toFixed(0)} ms in ${profile.kernels.length} kernel calls`);
for (const [kernel, { ms, calls }] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) {
  console.log(
    `${kernel.padEnd(36)} ${ms.toFixed(1).padStart(8)} ms ${((100 * ms) / total).toFixed(1).padStart(5)} % ${String(calls).padStart(5)} calls`,
  );
}

// Training throughput: the lesson's TextCNN and BiRNN in the runner's loop against PyTorch (bench/train.py),
// same shapes, same run, on the CPU.
//
//   node --import tsx bench/train.ts [--models textcnn,birnn] [--steps-textcnn 30] [--steps-birnn 4] [--rounds 1] [--unfused] [--no-python]
//
// Runner side: token ids [N, 500] from a 46,152-word vocabulary (the IMDb vocabulary size), batch 64,
// through trainLoop (shuffled batches gathered on the backend, grouped Adam, loss/accuracy read back
// at log steps and epoch ends): two epochs of `steps` steps each, the second one timed (examples_per_sec of the loop).
// --unfused also times the runner with RUNNER_FUSED_KERNELS=0 (TextCNN's dense convolution gradients) in each round.
// PyTorch side: bench/train.py, the d2l training step with a DataLoader, `warmup` steps untimed.
import * as tf from '@tensorflow/tfjs';
import { models } from '../components/model/index.ts';
import { optimizers } from '../components/optimizer/index.ts';
import { describeBackend, selectBackend } from '../runner/backend/select.ts';
import { TensorBatchSource } from '../runner/data/batches.ts';
import type { PreparedData } from '../runner/data/types.ts';
import { trainLoop } from '../runner/train/loop.ts';
import { modelIntraOpThreads } from '../runner/run/build.ts';
import { GroupedOptimizer } from '../runner/train/optimizer.ts';
import { resolveParamGroups } from '../runner/train/param-groups.ts';
import { seededRandom, withSeededMathRandom } from '../runner/train/random.ts';
import { loadAverage, median, root, runPeer } from './peer.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : fallback);
const wanted = option('--models', 'textcnn,birnn').split(',');
const VOCAB = 46152;
const LEN = 500;
const BATCH = 64;

const configs: Record<string, { model: Record<string, unknown> & { type: string }; lr: number }> = {
  textcnn: { model: { type: 'textcnn', embed_size: 100, kernel_sizes: [3, 4, 5], num_channels: [100, 100, 100], dropout: 0.5 }, lr: 0.001 },
  birnn: { model: { type: 'birnn', embed_size: 100, num_hiddens: 100, num_layers: 2 }, lr: 0.01 },
};

function randomIds(count: number, seed: number): Int32Array {
  const random = seededRandom(seed);
  return Int32Array.from({ length: count * LEN }, () => Math.floor(random() * VOCAB));
}

/** Examples/s of the runner's loop on `steps` batches (second epoch of two). */
async function runner(name: string, steps: number): Promise<{ examplesPerSec: number; secondsPerStep: number }> {
  const count = steps * BATCH;
  const labels = Int32Array.from({ length: count }, (_, i) => i % 2);
  const testLabels = Int32Array.from({ length: BATCH }, (_, i) => i % 2);
  const data: PreparedData = {
    classes: ['neg', 'pos'],
    inputShape: [LEN],
    train: new TensorBatchSource(tf.tensor2d(randomIds(count, 1), [count, LEN], 'int32'), labels),
    test: new TensorBatchSource(tf.tensor2d(randomIds(BATCH, 2), [BATCH, LEN], 'int32'), testLabels),
    dataSeconds: 0,
  };
  const { model: modelConfig, lr } = configs[name]!;
  return withSeededMathRandom(0, async () => {
    const model = await models.build(modelConfig, { numClasses: 2, inputShape: [LEN], vocabSize: VOCAB });
    const spec = optimizers.build({ type: 'adam', lr }, { configDir: root, warn: console.warn });
    const plan = resolveParamGroups(model, { lr: spec.lr, weightDecay: spec.weightDecay, groups: spec.paramGroups });
    const optimizer = new GroupedOptimizer(spec.rule, plan.groups);
    const result = await trainLoop(
      model,
      optimizer,
      data,
      { epochs: 2, batchSize: BATCH, evalBatchSize: BATCH, shuffle: true, logEverySteps: 1000, seed: 0 },
      { metrics() {} },
    );
    optimizer.dispose();
    model.dispose();
    data.train.dispose();
    data.test.dispose();
    return { examplesPerSec: result.final.examples_per_sec!, secondsPerStep: result.final.epoch_time_s! / steps };
  });
}

const rounds = Number(option('--rounds', '1'));
// Like runner run, a single model gets its preferred TensorFlow threads (birnn: one per direction); with several
// models in one process TensorFlow's default pools are used for all (run them one at a time to compare).
const intraOpThreads = wanted.length === 1 ? modelIntraOpThreads(configs[wanted[0]!]!.model) : undefined;
const backend = await selectBackend('cpu', { intraOpThreads });
console.log(
  `backend: ${describeBackend(backend)}; batch ${BATCH}, length ${LEN}, vocabulary ${VOCAB}; load average before: ${loadAverage()}`,
);
for (const name of wanted) {
  const steps = Number(option(`--steps-${name}`, name === 'textcnn' ? '30' : '4'));
  const ours: number[] = [];
  const unfused: number[] = [];
  const peer: number[] = [];
  let framework = '';
  for (let round = 1; round <= rounds; round++) {
    const result = await runner(name, steps);
    ours.push(result.examplesPerSec);
    let line = `${name} round ${round}: runner ${result.examplesPerSec.toFixed(1)} examples/s (${result.secondsPerStep.toFixed(3)} s/step, ${steps} steps)`;
    if (args.includes('--unfused')) {
      process.env.RUNNER_FUSED_KERNELS = '0';
      const plain = await runner(name, steps);
      delete process.env.RUNNER_FUSED_KERNELS;
      unfused.push(plain.examplesPerSec);
      line += ` | unfused ${plain.examplesPerSec.toFixed(1)}`;
    }
    if (!args.includes('--no-python')) {
      const torch = runPeer<{ framework: string; threads: number; examples_per_sec: number; seconds_per_step: number }>(
        'train.py',
        name,
        steps,
      );
      framework = `${torch.framework} (${torch.threads} threads)`;
      peer.push(torch.examples_per_sec);
      line +=
        ` | ${framework} ${torch.examples_per_sec.toFixed(1)} examples/s (${torch.seconds_per_step.toFixed(3)} s/step)` +
        ` | ratio ${(result.examplesPerSec / torch.examples_per_sec).toFixed(2)}×`;
    }
    console.log(line);
  }
  let summary = `${name}: median of ${rounds}: runner ${median(ours).toFixed(1)} examples/s`;
  if (unfused.length) summary += ` (unfused ${median(unfused).toFixed(1)}: ${(median(ours) / median(unfused)).toFixed(2)}×)`;
  if (peer.length)
    summary += ` | ${framework} ${median(peer).toFixed(1)} | ratio runner/PyTorch ${(median(ours) / median(peer)).toFixed(2)}×`;
  console.log(summary);
}
console.log(`load average after: ${loadAverage()}`);

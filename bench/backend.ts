// Native TensorFlow backend vs pure JS, measured in one run:
//   node --import tsx bench/backend.ts [--js-batch 1] [--steps 10]
// 1. matmul 1024x1024x1024 (GFLOP/s)
// 2. a TextCNN training step (examples/s): batch 64, seq 500, two 100-d embeddings (one trainable,
//    one frozen) stacked as 200 channels, conv1d kernels 3/4/5 x 100 + ReLU, max over time,
//    dropout 0.5, dense 2 (softmax), Adam, through tf.LayersModel.trainOnBatch.
// The model mirrors components/model/textcnn.ts, with a 20,000-word vocabulary (IMDb at min_freq 5
// has ~49k). Pure JS runs fewer iterations, and its TextCNN step a batch of 1 (--js-batch):
// its embedding gradient (UnsortedSegmentSum in tfjs-backend-cpu) loops over the whole vocabulary
// with tensor ops, so one example takes minutes; throughput per example is what is compared.
// The whole run takes about 2.5 minutes on 2 cores.
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { describeBackend, selectBackend } from '../runner/backend/select.ts';

const { values: opts } = parseArgs({
  options: { 'js-batch': { type: 'string', default: '1' }, steps: { type: 'string', default: '10' } },
});
const JS_BATCH = Number(opts['js-batch']);
const NATIVE_STEPS = Number(opts.steps);
const SEQ = 500,
  EMBED = 100,
  VOCAB = 20_000,
  FILTERS = 100,
  KERNELS = [3, 4, 5],
  BATCH = 64;

/** A rate with 3 significant digits (pure-JS rates can be far below 1). */
const fmt = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toPrecision(3));

/** Seconds taken by `fn`. */
async function seconds(fn: () => Promise<void> | void): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

/** GFLOP/s of a 1024^3 matmul on the current backend. */
async function matmulGflops(warmup: number, iterations: number): Promise<number> {
  const n = 1024;
  const a = tf.randomUniform([n, n], -1, 1, 'float32', 1);
  const b = tf.randomUniform([n, n], -1, 1, 'float32', 2);
  for (let i = 0; i < warmup; i++) tf.tidy(() => tf.matMul(a, b)).dispose();
  const s = await seconds(async () => {
    for (let i = 0; i < iterations; i++) {
      const c = tf.matMul(a, b);
      await c.data(); // every product finished before the clock stops
      c.dispose();
    }
  });
  tf.dispose([a, b]);
  return (2 * n ** 3 * iterations) / s / 1e9;
}

/** The TextCNN of the benchmark (multichannel, Kim 2014 style). */
function textCnn(): tf.LayersModel {
  const tokens = tf.input({ shape: [SEQ], dtype: 'int32' });
  const trainable = tf.layers.embedding({ inputDim: VOCAB, outputDim: EMBED, name: 'embed_trainable' }).apply(tokens) as tf.SymbolicTensor;
  const frozen = tf.layers
    .embedding({ inputDim: VOCAB, outputDim: EMBED, trainable: false, name: 'embed_frozen' })
    .apply(tokens) as tf.SymbolicTensor;
  const channels = tf.layers.concatenate({ axis: -1 }).apply([trainable, frozen]) as tf.SymbolicTensor;
  const pooled = KERNELS.map((k) => {
    const conv = tf.layers.conv1d({ filters: FILTERS, kernelSize: k, activation: 'relu' }).apply(channels) as tf.SymbolicTensor;
    return tf.layers.globalMaxPooling1d().apply(conv) as tf.SymbolicTensor;
  });
  const features = tf.layers.concatenate().apply(pooled) as tf.SymbolicTensor;
  const dropped = tf.layers.dropout({ rate: 0.5 }).apply(features) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 2, activation: 'softmax' }).apply(dropped) as tf.SymbolicTensor;
  const model = tf.model({ inputs: tokens, outputs: out });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  return model;
}

/** Examples per second of TextCNN training steps on the current backend. */
async function textCnnExamplesPerSecond(batch: number, warmup: number, steps: number): Promise<number> {
  const model = textCnn();
  const x = tf.randomUniform([batch, SEQ], 0, VOCAB, 'int32', 3);
  const y = tf.oneHot(tf.randomUniform([batch], 0, 2, 'int32', 4), 2).toFloat();
  for (let i = 0; i < warmup; i++) await model.trainOnBatch(x, y);
  const s = await seconds(async () => {
    for (let i = 0; i < steps; i++) await model.trainOnBatch(x, y); // resolves with the loss: step done
  });
  tf.dispose([x, y]);
  model.dispose();
  return (batch * steps) / s;
}

async function main(): Promise<void> {
  const report = await selectBackend('auto');
  const native = report.tfBackend;
  console.log(`backend: ${describeBackend(report)}`);
  if (report.kind === 'pure-js') throw new Error('the native backend did not load: nothing to compare');
  const load = (): string =>
    loadavg()
      .map((l) => l.toFixed(1))
      .join(' ');
  console.log(`cores: ${availableParallelism()}, load average: ${load()}, node ${process.version}, tfjs ${tf.version.tfjs}`);

  const rows: Array<[string, number, number, string]> = [];
  await tf.setBackend(native);
  const nativeMatmul = await matmulGflops(3, 30);
  console.log(`matmul 1024^3, native: ${fmt(nativeMatmul)} GFLOP/s (30 iterations)`);
  const nativeStep = await textCnnExamplesPerSecond(BATCH, 2, NATIVE_STEPS);
  console.log(`TextCNN step, native: ${fmt(nativeStep)} examples/s (batch ${BATCH}, ${NATIVE_STEPS} steps after 2 warm-up)`);

  await tf.setBackend('cpu');
  const jsMatmul = await matmulGflops(0, 2);
  console.log(`matmul 1024^3, pure JS: ${fmt(jsMatmul)} GFLOP/s (2 iterations)`);
  const jsStep = await textCnnExamplesPerSecond(JS_BATCH, 0, 1);
  console.log(`TextCNN step, pure JS: ${fmt(jsStep)} examples/s (batch ${JS_BATCH}, 1 step)`);
  await tf.setBackend(native);

  rows.push(['matmul 1024^3 (GFLOP/s)', nativeMatmul, jsMatmul, '>= 50']);
  rows.push(['TextCNN training step (examples/s)', nativeStep, jsStep, '>= 150']);
  console.log(`load average at the end: ${load()}`);
  console.log('\n| measure | native | pure JS | native / pure JS | target (native) |\n| --- | ---: | ---: | ---: | --- |');
  for (const [name, n, js, target] of rows) {
    console.log(`| ${name} | ${fmt(n)} | ${fmt(js)} | ${fmt(n / js)}x | ${target} |`);
  }
}

await main();

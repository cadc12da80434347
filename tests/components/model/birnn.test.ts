import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testBackend } from '../../helpers/backend.ts';
import * as tf from '@tensorflow/tfjs';
import { models } from '../../../components/model/index.ts';
import { FusedBidirectionalLSTM } from '../../../components/model/layers/fused-lstm.ts';
import { availableParallelism } from 'node:os';
import { buildExperiment, disposeBuilt, modelIntraOpThreads } from '../../../runner/run/build.ts';
import { loadModel, saveModel } from '../../../runner/run/model-io.ts';
import { evaluate, trainLoop } from '../../../runner/train/loop.ts';
import type { MetricRecord } from '../../../runner/train/metrics.ts';
import { withSeededMathRandom } from '../../../runner/train/random.ts';
import { fixtureExperiment } from '../../helpers/experiment.ts';
import { tempDir } from '../../helpers/files.ts';

const context = { configDir: '.', warn() {} };
const small = { type: 'birnn', embed_size: 8, num_hiddens: 6, num_layers: 2 };
const textContext = { numClasses: 2, inputShape: [7], vocabSize: 30 };
const fixtureModel = (implementation: string) =>
  `model={type: birnn, embed_size: 8, num_hiddens: 8, num_layers: 2, implementation: ${implementation}}`;
const loopOptions = { epochs: 3, batchSize: 64, evalBatchSize: 100, shuffle: true, logEverySteps: 100, seed: 3, evalTestEveryEpoch: true };

test('the fused LSTM asks for one TensorFlow intra-op thread per direction (half the cores); layers and other models ask nothing', () => {
  const birnn = models.get('birnn');
  assert.is(modelIntraOpThreads({ type: 'birnn' }), Math.max(1, Math.floor(availableParallelism() / 2)));
  assert.is(birnn.intraOpThreads?.({ implementation: 'fused' } as never, 2), 1);
  assert.is(birnn.intraOpThreads?.({ implementation: 'fused' } as never, 16), 8);
  assert.is(modelIntraOpThreads({ type: 'birnn', implementation: 'layers' }), undefined);
  assert.is(modelIntraOpThreads({ type: 'textcnn' }), undefined);
});

test("the fused implementation is the default, and names and shapes its weights as 'layers' does", async () => {
  const fused = await models.build(small, textContext);
  const layers = await models.build({ ...small, implementation: 'layers' }, textContext);
  assert.instance(fused.getLayer('bilstm_0'), FusedBidirectionalLSTM);
  assert.not.instance(layers.getLayer('bilstm_0'), FusedBidirectionalLSTM);
  const describe = (m: tf.LayersModel) => m.weights.map((w) => `${w.originalName} [${w.shape.join(',')}]`);
  assert.equal(describe(fused), describe(layers));
  assert.ok(describe(fused).includes('bilstm_1/backward_lstm_1/recurrent_kernel [6,24]'));
  assert.equal(fused.outputs[0]!.shape, [null, 2]);
  fused.dispose();
  layers.dispose();
});

test("with the same weights, 'fused' and 'layers' compute the same logits", async () => {
  const fused = await models.build(small, textContext);
  const layers = await models.build({ ...small, implementation: 'layers' }, textContext);
  layers.setWeights(fused.getWeights());
  const tokens = tf.randomUniform([5, 7], 0, 30, 'int32', 1);
  const [a, b] = [fused, layers].map((m) => (m.predict(tokens) as tf.Tensor).dataSync());
  assert.ok(
    b!.some((v) => Math.abs(v) > 1e-4),
    'logits near zero',
  );
  b!.forEach((v, i) => assert.ok(Math.abs(a![i]! - v) <= 1e-5 + 1e-4 * Math.abs(v), `logit ${i}: ${a![i]} vs ${v}`));
  tf.dispose(tokens);
  fused.dispose();
  layers.dispose();
});

/** The fixture experiment with a BiRNN of the given implementation, built with the config's seed. */
async function buildOnFixture(implementation: string) {
  const { config } = fixtureExperiment('', [fixtureModel(implementation), 'data.max_len=16', 'optimizer.lr=0.02']);
  return withSeededMathRandom(config.seed, () => buildExperiment(config, context));
}

/** Trains on the fixture; the per-epoch metrics. */
async function train(built: Awaited<ReturnType<typeof buildOnFixture>>): Promise<Record<string, number>[]> {
  const records: MetricRecord[] = [];
  await trainLoop(built.model, built.optimizer, built.data, loopOptions, { metrics: (r) => records.push(r) });
  return records.filter((r) => 'epoch_time_s' in r.metrics).map((r) => r.metrics);
}

test("birnn on the fixture: 'fused' trains as 'layers' (the reference) does from the same weights, to the same accuracy", async () => {
  const before = tf.memory().numTensors;
  const fused = await buildOnFixture('fused');
  const layers = await buildOnFixture('layers');
  layers.model.setWeights(fused.model.getWeights());
  const f = await train(fused);
  const l = await train(layers);
  assert.ok(l.at(-1)!.test_accuracy! >= 0.9, `reference test accuracy ${l.at(-1)!.test_accuracy} (${testBackend})`);
  l.forEach((epoch, i) => {
    const what = `epoch ${i + 1}: fused ${JSON.stringify(f[i])}, layers ${JSON.stringify(epoch)}`;
    assert.ok(Math.abs(f[i]!.test_accuracy! - epoch.test_accuracy!) <= 0.02, `test accuracy, ${what}`);
    assert.ok(Math.abs(f[i]!.train_loss! - epoch.train_loss!) <= 1e-3 * Math.max(1, epoch.train_loss!), `train loss, ${what}`);
  });
  disposeBuilt(layers);

  // the trained fused model saves and loads (runner/run/model-io.ts) with the same predictions
  const dir = tempDir();
  await saveModel(fused.model, dir);
  const loaded = await loadModel(dir);
  assert.instance(loaded.getLayer('bilstm_1'), FusedBidirectionalLSTM);
  const [a, b] = [fused.model, loaded].map((m) => evaluate(m, fused.data.test, 2, 64));
  assert.equal([...b!.predictions], [...a!.predictions]);
  assert.ok(Math.abs(b!.loss - a!.loss) < 1e-6, `loss ${a!.loss} before saving, ${b!.loss} after loading`);
  loaded.dispose();
  disposeBuilt(fused);
  assert.is(tf.memory().numTensors, before);
});

test.run();

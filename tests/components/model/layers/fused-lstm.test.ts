// FusedBidirectionalLSTM is a drop-in for tfjs-layers' bidirectional(lstm) with sigmoid gates: same
// weights (names, shapes, order, layout), same outputs and variable gradients in a tf.model, on each
// implementation and backend; it serializes and loads.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../../helpers/backend.ts';
import * as tf from '@tensorflow/tfjs';
import { FusedBidirectionalLSTM, type LstmImplementation } from '../../../../components/model/layers/fused-lstm.ts';
import { assertClose, onBackend } from '../../../helpers/tensors.ts';
import { nativeBackendLoaded } from './lstm-helpers.ts';

const [BATCH, TIME, INPUT, UNITS] = [3, 6, 5, 4];

/** input → bidirectional LSTM → output, named like birnn's first layer. */
function wrap(layer: tf.layers.Layer): tf.LayersModel {
  const input = tf.input({ shape: [TIME, INPUT] });
  return tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
}

function fused(implementation: LstmImplementation = 'auto'): tf.LayersModel {
  return wrap(new FusedBidirectionalLSTM({ name: 'bilstm_0', cellName: 'lstm_0', units: UNITS, implementation }));
}

function layersReference(): tf.LayersModel {
  const lstm = tf.layers.lstm({ name: 'lstm_0', units: UNITS, returnSequences: true, recurrentActivation: 'sigmoid' });
  return wrap(tf.layers.bidirectional({ name: 'bilstm_0', layer: lstm, mergeMode: 'concat' }));
}

/** The model's output and the gradients of sum(output · dy) by each of its variables, as arrays. */
function outputAndVariableGrads(model: tf.LayersModel, x: tf.Tensor, dy: tf.Tensor): Float32Array[] {
  return tf.tidy(() => {
    const y = model.apply(x) as tf.Tensor;
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(model.apply(x, { training: true }) as tf.Tensor, dy)), variables);
    return [y, ...variables.map((v) => grads[v.name]!)].map((t) => Float32Array.from(t.dataSync()));
  });
}

test('weights are named, shaped and ordered as tfjs-layers bidirectional(lstm) names them', () => {
  const [a, b] = [fused(), layersReference()];
  const describe = (m: tf.LayersModel) => m.weights.map((w) => `${w.originalName} [${w.shape.join(',')}]`);
  assert.equal(describe(a), describe(b));
  assert.equal(describe(a).slice(0, 3), [
    'bilstm_0/forward_lstm_0/kernel [5,16]',
    'bilstm_0/forward_lstm_0/recurrent_kernel [4,16]',
    'bilstm_0/forward_lstm_0/bias [16]',
  ]);
  assert.equal(a.outputs[0]!.shape, [null, TIME, 2 * UNITS]);
  a.dispose();
  b.dispose();
});

const cases: Array<[LstmImplementation, 'cpu' | 'tensorflow']> = [
  ['js', 'cpu'],
  ['auto', 'cpu'],
];
if (nativeBackendLoaded()) cases.push(['graph', 'tensorflow'], ['eager', 'tensorflow'], ['auto', 'tensorflow'], ['js', 'tensorflow']);

for (const [implementation, backend] of cases) {
  test(`'${implementation}' on ${backend}: outputs and variable gradients equal tfjs-layers' with the same weights`, async () => {
    const x = tf.randomUniform([BATCH, TIME, INPUT], -1, 1, 'float32', 1);
    const dy = tf.randomUniform([BATCH, TIME, 2 * UNITS], -1, 1, 'float32', 2);
    const reference = layersReference();
    const model = fused(implementation);
    model.setWeights(reference.getWeights());
    const expected = await onBackend(backend, () => outputAndVariableGrads(reference, x, dy));
    const actual = await onBackend(backend, () => outputAndVariableGrads(model, x, dy));
    assert.is(actual.length, 1 + 6);
    expected.forEach((e, i) => {
      assert.ok(
        e.some((v) => Math.abs(v) > 1e-3),
        `result ${i} is trivial`,
      );
      assertClose(actual[i]!, e, `${implementation} on ${backend}, result ${i}`);
    });
    tf.dispose([x, dy]);
    model.dispose();
    reference.dispose();
  });
}

/** The mode a layer runs in on a backend with an implementation setting. */
const modesOf = (layer: FusedBidirectionalLSTM) => (backend: 'cpu' | 'tensorflow', implementation: LstmImplementation) => {
  layer.implementation = implementation;
  return onBackend(backend, () => layer.mode());
};

test("'auto' runs tfjs ops on pure JS; native modes there are errors", async () => {
  const layer = new FusedBidirectionalLSTM({ units: 2 });
  const modeOn = modesOf(layer);
  assert.is(await modeOn('cpu', 'auto'), 'js');
  assert.is(await modeOn('cpu', 'js'), 'js');
  for (const implementation of ['graph', 'eager'] as const) {
    await onBackend('cpu', () => {
      layer.implementation = implementation;
      assert.throws(() => layer.mode(), /needs tfjs-node's 'tensorflow' backend, the backend is 'cpu'/);
    });
  }
});

(nativeBackendLoaded() ? test : test.skip)("'auto' runs the graph on the native CPU backend; every mode works there", async () => {
  const layer = new FusedBidirectionalLSTM({ units: 2 });
  const modeOn = modesOf(layer);
  assert.is(await modeOn('tensorflow', 'auto'), 'graph');
  assert.is(await modeOn('tensorflow', 'graph'), 'graph');
  assert.is(await modeOn('tensorflow', 'eager'), 'eager');
  assert.is(await modeOn('tensorflow', 'js'), 'js');
});

test('serializes: a saved model loads as the same layer with the same config and outputs', async () => {
  const model = wrap(
    new FusedBidirectionalLSTM({
      name: 'bilstm_0',
      cellName: 'lstm_0',
      units: UNITS,
      kernelInitializer: 'leCunNormal',
      implementation: 'js',
    }),
  );
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
  const layer = loaded.getLayer('bilstm_0') as FusedBidirectionalLSTM;
  assert.instance(layer, FusedBidirectionalLSTM);
  const settings = (l: FusedBidirectionalLSTM) => [
    l.units,
    l.cellName,
    l.kernelInitializer,
    l.recurrentInitializer,
    l.biasInitializer,
    l.implementation,
  ];
  assert.equal(settings(layer), [UNITS, 'lstm_0', 'leCunNormal', 'orthogonal', 'zeros', 'js']);
  assert.equal(
    loaded.weights.map((w) => w.originalName),
    model.weights.map((w) => w.originalName),
  );
  const x = tf.randomUniform([2, TIME, INPUT], -1, 1, 'float32', 3);
  assertClose(
    (loaded.predict(x) as tf.Tensor).dataSync() as Float32Array,
    (model.predict(x) as tf.Tensor).dataSync() as Float32Array,
    'loaded vs saved',
    0,
    0,
  );
  tf.dispose(x);
  model.dispose();
  loaded.dispose();
});

test('bad settings are errors that say what is wrong', () => {
  assert.throws(() => new FusedBidirectionalLSTM({ units: 0 }), /units must be a positive integer/);
  assert.throws(() => new FusedBidirectionalLSTM({ units: 2, kernelInitializer: 'nope' as 'zeros' }), /unknown initializer 'nope'/);
  assert.throws(() => wrap2d(new FusedBidirectionalLSTM({ units: 2 })), /expects \[batch, time, features\] input/);
});

function wrap2d(layer: tf.layers.Layer): void {
  layer.apply(tf.input({ shape: [INPUT] }));
}

test.run();

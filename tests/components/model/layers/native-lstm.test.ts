// TensorFlow's BlockLSTMV2/BlockLSTMGradV2 through the native backend, as a graph (both directions
// at once) and as eager ops, agree with a textbook LSTM (outputs and gradients) on several shapes;
// nothing leaks. Skipped without tfjs-node's backend.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../../helpers/backend.ts';
import * as tf from '@tensorflow/tfjs';
import { layerGraphAvailable, layerGraphError } from '../../../../components/model/layers/lstm-graph.ts';
import { nativeBidirectionalLstm, nativeLstmAvailable, type NativeMode } from '../../../../components/model/layers/native-lstm.ts';
import type { BiLstm } from './lstm-helpers.ts';
import {
  assertMatchesReference,
  nativeBackendLoaded,
  onBackend,
  outputAndGrads,
  problem,
  referenceResults,
  SHAPES,
} from './lstm-helpers.ts';

const native = nativeBackendLoaded();

const MODES: NativeMode[] = ['graph', 'eager'];
const inMode =
  (mode: NativeMode): BiLstm =>
  (x, w) =>
    nativeBidirectionalLstm(x, w, mode);

test('available on the native backend only; the graph loads on the native CPU backend', async () => {
  assert.is(await onBackend('cpu', () => nativeLstmAvailable()), false);
  assert.is(await onBackend('cpu', () => layerGraphAvailable()), false);
  if (!native) return;
  assert.is(await onBackend('tensorflow', () => nativeLstmAvailable()), true);
  assert.is(await onBackend('tensorflow', () => layerGraphAvailable()), true, `${layerGraphError()}`);
});

for (const shape of SHAPES) {
  const name = `batch ${shape.batch}, time ${shape.time}, input ${shape.input}, units ${shape.units}`;
  test(`outputs and gradients equal the reference LSTM's (${name})`, async () => {
    if (!native) return;
    const p = problem(shape, shape.time + 10 * shape.batch);
    const expected = await referenceResults(p);
    for (const mode of MODES) {
      const actual = await onBackend('tensorflow', () => outputAndGrads(inMode(mode), p));
      assertMatchesReference(actual, expected, `native ${mode}`, p);
    }
  });
}

test('forward and backward leave no tensors or backend data behind (the int64 sequence length included)', async () => {
  if (!native) return;
  await onBackend('tensorflow', () => {
    for (const mode of MODES) {
      const p = problem(SHAPES[0]!, 3);
      outputAndGrads(inMode(mode), p); // warm-up
      const tensors = tf.memory().numTensors;
      const dataIds = tf.engine().backend.numDataIds();
      outputAndGrads(inMode(mode), p);
      tf.tidy(() => {
        const forward = {
          kernel: tf.ones([4, 8]) as tf.Tensor2D,
          recurrentKernel: tf.ones([2, 8]) as tf.Tensor2D,
          bias: tf.ones([8]) as tf.Tensor1D,
        };
        nativeBidirectionalLstm(tf.ones([2, 3, 4]), { forward, backward: forward }, mode); // inference: nothing saved
      });
      assert.is(tf.memory().numTensors, tensors, mode);
      assert.is(tf.engine().backend.numDataIds(), dataIds, mode);
    }
  });
});

test.run();

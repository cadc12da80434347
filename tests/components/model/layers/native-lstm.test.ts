// TensorFlow's BlockLSTMV2/BlockLSTMGradV2 through the native backend agree with a textbook LSTM
// (outputs and gradients) on several shapes; nothing leaks. Skipped without tfjs-node's backend.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../../helpers/backend.ts';
import * as tf from '@tensorflow/tfjs';
import { nativeBidirectionalLstm, nativeLstmAvailable } from '../../../../components/model/layers/native-lstm.ts';
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

test('available on the native backend only', async () => {
  assert.is(await onBackend('cpu', () => nativeLstmAvailable()), false);
  if (native) assert.is(await onBackend('tensorflow', () => nativeLstmAvailable()), true);
});

for (const shape of SHAPES) {
  const name = `batch ${shape.batch}, time ${shape.time}, input ${shape.input}, units ${shape.units}`;
  test(`outputs and gradients equal the reference LSTM's (${name})`, async () => {
    if (!native) return;
    const p = problem(shape, shape.time + 10 * shape.batch);
    const expected = await referenceResults(p);
    const actual = await onBackend('tensorflow', () => outputAndGrads(nativeBidirectionalLstm, p));
    assertMatchesReference(actual, expected, 'native', p);
  });
}

test('forward and backward leave no tensors or backend data behind (the int64 sequence length included)', async () => {
  if (!native) return;
  await onBackend('tensorflow', () => {
    const p = problem(SHAPES[0]!, 3);
    outputAndGrads(nativeBidirectionalLstm, p); // warm-up
    const tensors = tf.memory().numTensors;
    const dataIds = tf.engine().backend.numDataIds();
    outputAndGrads(nativeBidirectionalLstm, p);
    tf.tidy(() => {
      const forward = {
        kernel: tf.ones([4, 8]) as tf.Tensor2D,
        recurrentKernel: tf.ones([2, 8]) as tf.Tensor2D,
        bias: tf.ones([8]) as tf.Tensor1D,
      };
      nativeBidirectionalLstm(tf.ones([2, 3, 4]), { forward, backward: forward }); // inference: nothing saved
    });
    assert.is(tf.memory().numTensors, tensors);
    assert.is(tf.engine().backend.numDataIds(), dataIds);
  });
});

test.run();

// The fused-ops bidirectional LSTM (the fallback for backends without TensorFlow's kernels) agrees
// with a textbook LSTM, outputs and gradients, on several shapes, on the pure-JS and the native backend.
import { test } from 'uvu';
import * as tf from '@tensorflow/tfjs';
import * as assert from 'uvu/assert';
import '../../../helpers/backend.ts';
import { jsBidirectionalLstm } from '../../../../components/model/layers/js-lstm.ts';
import { onBackend } from '../../../helpers/tensors.ts';
import { assertMatchesReference, nativeBackendLoaded, outputAndGrads, problem, referenceResults, SHAPES } from './lstm-helpers.ts';

const backends = nativeBackendLoaded() ? (['cpu', 'tensorflow'] as const) : (['cpu'] as const);

for (const shape of SHAPES) {
  const name = `batch ${shape.batch}, time ${shape.time}, input ${shape.input}, units ${shape.units}`;
  test(`outputs and gradients equal the reference LSTM's on ${backends.join(' and ')} (${name})`, async () => {
    const p = problem(shape, shape.time + 10 * shape.batch);
    const expected = await referenceResults(p);
    for (const backend of backends) {
      const actual = await onBackend(backend, () => outputAndGrads(jsBidirectionalLstm, p));
      assertMatchesReference(actual, expected, `js on ${backend}`, p);
    }
  });
}

test('forward and backward leave no tensors behind', async () => {
  const p = problem(SHAPES[0]!, 3);
  const before = tf.memory().numTensors;
  await onBackend('cpu', () => outputAndGrads(jsBidirectionalLstm, p));
  assert.is(tf.memory().numTensors, before);
});

test.run();

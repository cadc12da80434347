// Shared by the LSTM tests: seeded inputs, the output and every gradient of a bidirectional LSTM
// function as plain arrays, comparison with the reference.
import * as tf from '@tensorflow/tfjs';
import * as assert from 'uvu/assert';
import type { BidirectionalWeights } from '../../../../components/model/layers/lstm-weights.ts';
import { assertClose, assertNonTrivial, onBackend } from '../../../helpers/tensors.ts';
import { referenceBidirectionalLstm } from './reference-lstm.ts';

/** A bidirectional LSTM as a function of its input and weights. */
export type BiLstm = (x: tf.Tensor3D, w: BidirectionalWeights) => tf.Tensor3D;

/** One test problem: batch, time, input features, units per direction. */
export interface Shape {
  batch: number;
  time: number;
  input: number;
  units: number;
}

/** The shapes every implementation is checked on: sequence length 1, batch 1, and a few others. */
export const SHAPES: Shape[] = [
  { batch: 3, time: 5, input: 4, units: 6 },
  { batch: 1, time: 1, input: 3, units: 2 },
  { batch: 4, time: 1, input: 5, units: 3 },
  { batch: 1, time: 8, input: 2, units: 5 },
  { batch: 5, time: 13, input: 7, units: 8 }, // odd batch × odd size: the native path pads the batch
];

/** Seeded values of a problem, as plain arrays (so every backend sees the same numbers). */
export interface Problem {
  shape: Shape;
  x: Float32Array;
  weights: Float32Array[];
  dy: Float32Array;
}

/** Random input, weights (forward kernel, recurrent kernel, bias, then backward) and output gradient. */
export function problem(shape: Shape, seed: number): Problem {
  const { batch, time, input, units } = shape;
  const uniform = (dims: number[], s: number, scale = 1) =>
    tf.tidy(() => tf.randomUniform(dims, -scale, scale, 'float32', seed * 100 + s).dataSync() as Float32Array);
  const direction = (s: number) => [
    uniform([input, 4 * units], s, 0.6),
    uniform([units, 4 * units], s + 1, 0.6),
    uniform([4 * units], s + 2, 0.5),
  ];
  return {
    shape,
    x: uniform([batch, time, input], 1),
    weights: [...direction(2), ...direction(5)],
    dy: uniform([batch, time, 2 * units], 8),
  };
}

/**
 * Runs `lstm` on the current backend: its output (computed without and with gradient recording),
 * then the gradients of sum(output · dy) by x and each weight.
 */
export function outputAndGrads(lstm: BiLstm, p: Problem): Float32Array[] {
  const { batch, time, input, units } = p.shape;
  const shapes = [[input, 4 * units], [units, 4 * units], [4 * units]];
  return tf.tidy(() => {
    const x = tf.tensor3d(p.x, [batch, time, input]);
    const w = p.weights.map((data, i) => tf.tensor(data, shapes[i % 3]));
    const dy = tf.tensor3d(p.dy, [batch, time, 2 * units]);
    const call = (xi: tf.Tensor, ...wi: tf.Tensor[]) => lstm(xi as tf.Tensor3D, pack(wi));
    const y = call(x, ...w);
    let recorded: tf.Tensor | undefined;
    const grads = tf.grads((...args: tf.Tensor[]) => {
      recorded = tf.keep(call(args[0]!, ...args.slice(1)));
      return tf.sum(tf.mul(recorded, dy));
    })([x, ...w]);
    const results = [y, recorded!, ...grads].map((t) => Float32Array.from(t.dataSync()));
    recorded!.dispose(); // kept out of tf.grads' scope
    return results;
  });
}

/** Weights in the implementations' form from [fk, fr, fb, bk, br, bb]. */
export function pack(w: tf.Tensor[]): BidirectionalWeights {
  const direction = (at: number) => ({
    kernel: w[at] as tf.Tensor2D,
    recurrentKernel: w[at + 1] as tf.Tensor2D,
    bias: w[at + 2] as tf.Tensor1D,
  });
  return { forward: direction(0), backward: direction(3) };
}

/** Names of outputAndGrads' results, for messages. */
export const RESULT_NAMES = [
  'output',
  'output while recording gradients',
  'd/dx',
  'd/dforward kernel',
  'd/dforward recurrent kernel',
  'd/dforward bias',
  'd/dbackward kernel',
  'd/dbackward recurrent kernel',
  'd/dbackward bias',
];

/** The reference results of a problem, computed on the pure-JS backend. */
export async function referenceResults(p: Problem): Promise<Float32Array[]> {
  return onBackend('cpu', () => outputAndGrads(referenceBidirectionalLstm, p));
}

/**
 * Compares every result of an implementation with the reference's. The reference must not be
 * trivial, except the recurrent kernels' gradients over one time step: from zero states, exactly 0.
 */
export function assertMatchesReference(actual: Float32Array[], expected: Float32Array[], what: string, p: Problem): void {
  assert.is(actual.length, expected.length);
  expected.forEach((e, i) => {
    const recurrent = RESULT_NAMES[i]!.includes('recurrent');
    if (p.shape.time === 1 && recurrent)
      assert.ok(
        e.every((v) => v === 0),
        `${what} ${RESULT_NAMES[i]}: not zero after one step`,
      );
    else assertNonTrivial(e, `${what} ${RESULT_NAMES[i]}: the reference`);
    assertClose(actual[i]!, e, `${what} ${RESULT_NAMES[i]}`);
  });
}

/** Whether tfjs-node's backend is registered in this process (not under RUNNER_TEST_BACKEND=pure-js). */
export function nativeBackendLoaded(): boolean {
  return tf.findBackendFactory('tensorflow') != null;
}

// Comparing tensors' values in tests: element-wise closeness, non-trivial results, switching backends.
import * as tf from '@tensorflow/tfjs';
import * as assert from 'uvu/assert';

/** Element-wise |actual - expected| <= atol + rtol·|expected| (float32 round-off), naming the worst element. */
export function assertClose(actual: Float32Array, expected: Float32Array, what: string, rtol = 1e-4, atol = 1e-5): void {
  assert.is(actual.length, expected.length, `${what}: length`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const excess = Math.abs(actual[i]! - expected[i]!) - (atol + rtol * Math.abs(expected[i]!));
    if (!(excess <= worstExcess)) {
      worst = i;
      worstExcess = Number.isNaN(excess) ? Infinity : excess;
    }
  }
  assert.ok(worst < 0, worst < 0 ? what : `${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]}`);
}

/** Asserts that results differ from zero, so agreement is not trivial. */
export function assertNonTrivial(a: Float32Array, what: string): void {
  assert.ok(
    a.some((x) => Math.abs(x) > 1e-3),
    `${what}: all values near zero`,
  );
}

/** Runs `fn` with `name` as tfjs's backend, then restores the previous one. */
export async function onBackend<T>(name: 'cpu' | 'tensorflow', fn: () => T | Promise<T>): Promise<T> {
  const before = tf.getBackend();
  assert.ok(await tf.setBackend(name), `backend '${name}' could not be set`);
  try {
    return await fn();
  } finally {
    await tf.setBackend(before);
  }
}

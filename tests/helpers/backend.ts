import { describeBackend, selectBackend } from '../../runner/backend/select.ts';

/**
 * Selects the backend tests run on: the native CPU backend by default (as CI builds it), or the
 * pure-JS one with RUNNER_TEST_BACKEND=pure-js. Import it first in tests that run tfjs ops.
 */
export const testBackend = await (async () => {
  if (process.env.RUNNER_TEST_BACKEND === 'pure-js') {
    const tf = await import('@tensorflow/tfjs');
    await tf.setBackend('cpu');
    return 'pure-js';
  }
  const report = await selectBackend('cpu', { warn: () => {} });
  if (report.kind === 'pure-js' && process.env.CI) throw new Error(`tests need the native backend in CI: ${describeBackend(report)}`);
  return report.kind;
})();

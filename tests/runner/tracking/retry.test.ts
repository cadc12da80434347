import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backoffDelay, isRetryableStatus, MAX_RETRY_AFTER_MS, parseRetryAfter } from '../../../runner/tracking/retry.ts';

test('retries 408, 429 and 5xx gateway/server errors only', () => {
  for (const s of [408, 429, 500, 502, 503, 504]) assert.ok(isRetryableStatus(s), String(s));
  for (const s of [400, 401, 403, 404, 409, 413, 501]) assert.not.ok(isRetryableStatus(s), String(s));
});

test('backoff doubles with jitter and is capped', () => {
  const policy = { retries: 10, baseDelayMs: 100, maxDelayMs: 1000 };
  assert.is(
    backoffDelay(policy, 0, () => 0),
    50,
  );
  assert.is(
    backoffDelay(policy, 0, () => 1),
    100,
  );
  assert.is(
    backoffDelay(policy, 3, () => 1),
    800,
  );
  assert.is(
    backoffDelay(policy, 9, () => 1),
    1000,
  );
  assert.is(
    backoffDelay(policy, 9, () => 0),
    500,
  );
});

test('Retry-After in seconds or as a date, capped', () => {
  assert.is(parseRetryAfter('2'), 2000);
  assert.is(parseRetryAfter('0.5'), 500);
  assert.is(parseRetryAfter(new Date(10_000).toUTCString(), 7_000), 3000);
  assert.is(parseRetryAfter('100000'), MAX_RETRY_AFTER_MS);
  assert.is(parseRetryAfter('soon'), undefined);
  assert.is(parseRetryAfter(null), undefined);
});

test.run();

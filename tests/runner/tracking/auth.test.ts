import { inspect } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UserError } from '../../../runner/errors.ts';
import { resolveConnection, stripCredentials } from '../../../runner/tracking/auth.ts';

test('Basic from MLFLOW_TRACKING_USERNAME/PASSWORD', () => {
  const c = resolveConnection('http://127.0.0.1:5000/', { MLFLOW_TRACKING_USERNAME: 'ann', MLFLOW_TRACKING_PASSWORD: 'pw-123' });
  assert.is(c.uri, 'http://127.0.0.1:5000');
  assert.is(c.headers().authorization, `Basic ${Buffer.from('ann:pw-123').toString('base64')}`);
  assert.is(c.authKind, 'basic');
});

test('Bearer from MLFLOW_TRACKING_TOKEN; Basic wins when both are set', () => {
  assert.is(resolveConnection('https://m.example', { MLFLOW_TRACKING_TOKEN: 'tok-xyz' }).headers().authorization, 'Bearer tok-xyz');
  const both = resolveConnection('https://m.example', {
    MLFLOW_TRACKING_TOKEN: 't',
    MLFLOW_TRACKING_USERNAME: 'u',
    MLFLOW_TRACKING_PASSWORD: 'p',
  });
  assert.is(both.authKind, 'basic');
});

test('credentials in the URI become Basic auth and leave the URI', () => {
  const c = resolveConnection('http://bob:hunter2@127.0.0.1:5000/prefix/', {});
  assert.is(c.uri, 'http://127.0.0.1:5000/prefix');
  assert.is(c.authKind, 'basic');
  assert.is(stripCredentials('http://bob:hunter2@host/x'), 'http://host/x');
});

test('the secret never shows when the connection is printed; redact() hides it in text', () => {
  const c = resolveConnection('http://127.0.0.1:1', { MLFLOW_TRACKING_TOKEN: 'very-secret-token' });
  for (const shown of [JSON.stringify(c), String(c), inspect(c), inspect({ c })]) assert.not.ok(shown.includes('very-secret-token'), shown);
  assert.is(c.redact('got very-secret-token back'), 'got *** back');
});

test('non-http URIs, bad URIs and half-set credentials are UserErrors', () => {
  assert.throws(
    () => resolveConnection('sqlite:///mlflow.db', {}),
    (e: unknown) => e instanceof UserError && /http/.test((e as Error).message),
  );
  assert.throws(
    () => resolveConnection('not a uri', {}),
    (e: unknown) => e instanceof UserError,
  );
  assert.throws(
    () => resolveConnection('http://h', { MLFLOW_TRACKING_USERNAME: 'u' }),
    (e: unknown) => e instanceof UserError,
  );
});

test.run();

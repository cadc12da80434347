import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { trackingExperiment, trackingLocation, trackingUri } from '../../../runner/tracking/location.ts';
import { TAGS } from '../../../runner/tracking/tags.ts';

test('the tracking URI: the config’s, else MLFLOW_TRACKING_URI, else the local store (undefined)', () => {
  const env = { MLFLOW_TRACKING_URI: 'http://env:5000' };
  assert.is(trackingUri({ uri: 'http://config:5000' }, env), 'http://config:5000');
  assert.is(trackingUri({}, env), 'http://env:5000');
  assert.is(trackingUri(undefined, env), 'http://env:5000');
  assert.is(trackingUri({}, {}), undefined);
  assert.is(trackingUri({ uri: '' }, { MLFLOW_TRACKING_URI: '' }), undefined);
});

test('the experiment: the config’s, else MLFLOW_EXPERIMENT_NAME, else the fallback', () => {
  assert.is(trackingExperiment({ experiment: 'mine' }, 'quickstart', { MLFLOW_EXPERIMENT_NAME: 'env' }), 'mine');
  assert.is(trackingExperiment({}, 'quickstart', { MLFLOW_EXPERIMENT_NAME: 'env' }), 'env');
  assert.is(trackingExperiment(undefined, 'quickstart', {}), 'quickstart');
});

test('a config’s location, and none for tracking: false', () => {
  assert.equal(trackingLocation({ name: 'quickstart', tracking: false }, { MLFLOW_TRACKING_URI: 'http://env:5000' }), {
    enabled: false,
    experiment: 'quickstart',
  });
  assert.equal(trackingLocation({ name: 'quickstart', tracking: { experiment: 'e' } }, { MLFLOW_TRACKING_URI: 'http://env:5000' }), {
    enabled: true,
    uri: 'http://env:5000',
    experiment: 'e',
  });
});

test('every runner.* tag name is in tracking/tags.ts, nowhere else in the source', () => {
  const root = join(import.meta.dirname, '../../../runner');
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
    );
  const names = new Set<string>(Object.values(TAGS));
  const strays: string[] = [];
  for (const file of files(root)) {
    if (file.endsWith(join('tracking', 'tags.ts'))) continue;
    for (const [, literal] of readFileSync(file, 'utf8').matchAll(/['"`](runner\.[a-z_]+)['"`]/g)) {
      if (names.has(literal!) || /^runner\.[a-z_]+$/.test(literal!)) strays.push(`${relative(root, file)}: ${literal}`);
    }
  }
  assert.equal(strays, []);
});

test.run();

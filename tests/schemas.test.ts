import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { schemaFiles, staleSchemaFiles } from '../runner/config/schema-files.ts';
import { PROJECT_ROOT } from './helpers/files.ts';
import { parse } from 'yaml';

const schemasDir = join(PROJECT_ROOT, 'schemas');

test('the committed schemas/ match the registered components (run `runner schema` after changing a component)', () => {
  assert.equal(staleSchemaFiles(schemasDir), []);
  assert.equal(
    readdirSync(schemasDir)
      .filter((f) => f.endsWith('.json'))
      .sort(),
    Object.keys(schemaFiles()).sort(),
  );
});

test('the committed experiment schema is plain JSON Schema an editor can use: every config in configs/ validates with it', () => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  const validate = ajv.compile(JSON.parse(readFileSync(join(schemasDir, 'experiment.schema.json'), 'utf8')));
  const configs = readdirSync(join(PROJECT_ROOT, 'configs')).filter((f) => f.endsWith('.yaml'));
  assert.ok(configs.length > 0);
  for (const name of configs) {
    const text = readFileSync(join(PROJECT_ROOT, 'configs', name), 'utf8');
    const lines = text.split('\n');
    assert.match(
      lines[0]!,
      /^# (runner|node bin\/runner\.js|npx runner) \w+ configs\//,
      `${name}: first line must be the command that runs it`,
    );
    assert.ok(lines.slice(0, 3).includes('# yaml-language-server: $schema=../schemas/experiment.schema.json'), `${name}: schema comment`);
    const data = parse(text) as Record<string, unknown>;
    if (data.extends) continue; // partial files are validated after merging by `runner validate`
    assert.ok(validate(data), `${name}: ${ajv.errorsText(validate.errors)}`);
  }
});

test('every per-kind schema compiles on its own; optimizer.schema.json checks a nested schedule', () => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  for (const name of Object.keys(schemaFiles()).filter((f) => f !== 'experiment.schema.json')) {
    ajv.compile(JSON.parse(readFileSync(join(schemasDir, name), 'utf8')));
  }
  const optimizer = ajv.compile(JSON.parse(readFileSync(join(schemasDir, 'optimizer.schema.json'), 'utf8')));
  assert.ok(optimizer({ type: 'sgd', lr: 0.1, schedule: { type: 'step', step_size: 3 } }), ajv.errorsText(optimizer.errors));
  assert.not.ok(optimizer({ type: 'sgd', lr: 0.1, schedule: { type: 'step', step_size: 3, gama: 0.5 } }));
  assert.not.ok(optimizer({ type: 'sgd', lr: 0.1, schedule: { type: 'stepp' } }));
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { ConfigDiagnosticsError, type Diagnostic } from '../../../runner/config/diagnostics.ts';
import { loadConfig, parseSetOption } from '../../../runner/config/load.ts';
import { withoutNestedSlots } from '../../../runner/config/schema.ts';
import { UserError } from '../../../runner/errors.ts';
import { fixture, tempDir, writeTree } from '../../helpers/files.ts';

const valid = `name: t
data:
  dataset: {type: text_folder, path: data}
  max_len: 20
model: {type: textcnn, embed_size: 8}
optimizer: {type: adam, lr: 0.01}
`;

/** Loads `text` as a config file and returns its diagnostics (fails if it loads). */
function diagnose(text: string, sets: string[] = [], extra: Record<string, string> = {}): { file: string; diagnostics: Diagnostic[] } {
  const dir = writeTree(tempDir(), { 'config.yaml': text, ...extra });
  const file = join(dir, 'config.yaml');
  try {
    loadConfig(file, sets.map(parseSetOption));
  } catch (error) {
    if (error instanceof ConfigDiagnosticsError) return { file, diagnostics: error.diagnostics };
    throw error;
  }
  assert.unreachable('the config should not load');
  throw new Error();
}

function only(diagnostics: Diagnostic[]): Diagnostic {
  assert.is(diagnostics.length, 1, diagnostics.map((d) => d.message).join('; '));
  return diagnostics[0]!;
}

test('a valid config loads with defaults applied and paths resolved against its folder', () => {
  const dir = writeTree(tempDir(), { 'config.yaml': valid });
  const { config, files } = loadConfig(join(dir, 'config.yaml'));
  assert.is(config.data.dataset.path, join(dir, 'data'));
  assert.is(config.train.epochs, 5);
  assert.is(config.data.batch_size, 64);
  assert.equal(config.model.kernel_sizes, [3, 4, 5]);
  assert.equal(files, [join(dir, 'config.yaml')]);
});

test('YAML syntax error: file:line:col of the problem', () => {
  const d = only(diagnose('name: t\ndata: [1, 2\nmodel: {}\n').diagnostics);
  assert.is(d.position?.line, 3);
  assert.ok(d.lines, 'code frame lines');
});

test('unknown component: suggestion, registered list, line and column of the value', () => {
  const d = only(diagnose(valid.replace('type: textcnn', 'type: textcn')).diagnostics);
  assert.equal(d.path, ['model', 'type']);
  assert.match(d.message, "unknown model 'textcn'. Did you mean 'textcnn'?");
  assert.match(d.hint ?? '', 'textcnn, birnn');
  assert.equal([d.position?.line, d.position?.col], [5, 15]);
});

test('wrong type: expected and actual', () => {
  const d = only(diagnose(valid.replace('max_len: 20', 'max_len: twenty')).diagnostics);
  assert.equal(d.path, ['data', 'max_len']);
  assert.match(d.message, 'expected an integer, got the string "twenty"');
  assert.equal([d.position?.line, d.position?.col], [4, 12]);
});

test('unknown key: points at the key and suggests the closest allowed one', () => {
  const d = only(diagnose(valid.replace('max_len: 20', 'max_len: 20\n  batchsize: 3')).diagnostics);
  assert.equal(d.path, ['data', 'batchsize']);
  assert.match(d.message, "Did you mean 'batch_size'?");
  assert.equal([d.position?.line, d.position?.col], [5, 3]);
});

test('unknown key inside a component is an error too', () => {
  const d = only(diagnose(valid.replace('embed_size: 8', 'embed_size: 8, channels: 3')).diagnostics);
  assert.equal(d.path, ['model', 'channels']);
});

test('missing required key: names it and points at its parent', () => {
  const d = only(diagnose(valid.replace('  dataset: {type: text_folder, path: data}\n', '  dataset: {type: text_folder}\n')).diagnostics);
  assert.equal(d.path, ['data', 'dataset', 'path']);
  assert.match(d.message, "missing required key 'path'");
  assert.is(d.position?.line, 3);
});

test('optimizer.schedule: a nested component slot, validated with defaults applied; the optimizer build does not see it', () => {
  const dir = writeTree(tempDir(), { 'config.yaml': valid.replace('lr: 0.01}', 'lr: 0.01, schedule: {type: cosine, warmup: 1}}') });
  const { config } = loadConfig(join(dir, 'config.yaml'));
  assert.equal(config.optimizer.schedule, { type: 'cosine', interval: 'epoch', eta_min: 0, warmup: 1, warmup_start_factor: 1 / 3 });
  assert.equal(Object.keys(withoutNestedSlots('optimizer', config.optimizer)).sort(), [
    'betas',
    'eps',
    'lr',
    'param_groups',
    'type',
    'weight_decay',
  ]);
});

test('optimizer.schedule: an unknown schedule gets a suggestion and the registered list; an unknown key its closest key', () => {
  const unknown = only(diagnose(valid.replace('lr: 0.01}', 'lr: 0.01, schedule: {type: cosin}}')).diagnostics);
  assert.equal(unknown.path, ['optimizer', 'schedule', 'type']);
  assert.match(unknown.message, "unknown schedule 'cosin'. Did you mean 'cosine'?");
  assert.match(unknown.hint ?? '', 'constant, step, multistep, exponential, cosine, linear, reduce_on_plateau');
  const key = only(diagnose(valid.replace('lr: 0.01}', 'lr: 0.01, schedule: {type: step, step_size: 2, gama: 0.5}}')).diagnostics);
  assert.equal(key.path, ['optimizer', 'schedule', 'gama']);
  assert.match(key.message, "unknown key 'gama'. Did you mean 'gamma'?");
  const plateau = only(diagnose(valid.replace('lr: 0.01}', 'lr: 0.01, schedule: {type: reduce_on_plateau, interval: step}}')).diagnostics);
  assert.equal(plateau.path, ['optimizer', 'schedule', 'interval']);
});

test('all problems are reported at once, in file order', () => {
  const text = valid.replace('max_len: 20', 'max_len: -1').replace('lr: 0.01', 'lr: fast').replace('type: textcnn', 'type: cnn');
  const { diagnostics } = diagnose(text);
  assert.equal(
    diagnostics.map((d) => d.position?.line),
    [4, 5, 6],
  );
});

test('bad --set path: an unknown key, attributed to the --set option', () => {
  const d = only(diagnose(valid, ['model.kernel_size=[2]']).diagnostics);
  assert.equal(d.path, ['model', 'kernel_size']);
  assert.is(d.origin, '--set model.kernel_size=[2]');
  assert.match(d.message, "Did you mean 'kernel_sizes'?");
});

test('--set values are YAML: numbers, lists; and a wrong type names the option', () => {
  const dir = writeTree(tempDir(), { 'config.yaml': valid });
  const { config } = loadConfig(join(dir, 'config.yaml'), ['optimizer.lr=0.003', 'model.kernel_sizes=[2, 3]'].map(parseSetOption));
  assert.is(config.optimizer.lr, 0.003);
  assert.equal(config.model.kernel_sizes, [2, 3]);
  const d = only(diagnose(valid, ['optimizer.lr=abc']).diagnostics);
  assert.is(d.origin, '--set optimizer.lr=abc');
});

test('--set through a scalar is reported, not thrown', () => {
  const d = only(diagnose(valid, ['name.first=x']).diagnostics);
  assert.match(d.message, 'cannot set');
});

test('--set without = is a usage error', () => {
  assert.throws(
    () => parseSetOption('optimizer.lr'),
    (e: unknown) => e instanceof UserError && /path=value/.test((e as Error).message),
  );
});

test('extends: deep merge, later wins, base paths resolve against the base file, errors point into the base', () => {
  const dir = tempDir();
  writeTree(dir, {
    'base/base.yaml': 'data:\n  dataset: {type: text_folder, path: corpus}\n  max_len: 20\noptimizer: {type: adam, lr: 0.01}\n',
    'child.yaml': 'extends: base/base.yaml\nname: c\nmodel: {type: textcnn}\noptimizer: {lr: 0.5}\n',
  });
  const loaded = loadConfig(join(dir, 'child.yaml'));
  assert.is(loaded.config.data.dataset.path, join(dir, 'base', 'corpus'));
  assert.is(loaded.config.optimizer.lr, 0.5);
  assert.is(loaded.config.optimizer.type, 'adam');
  assert.equal(loaded.files, [join(dir, 'child.yaml'), join(dir, 'base', 'base.yaml')]);
  assert.not.ok('extends' in loaded.config);
  writeTree(dir, { 'base/base.yaml': 'data:\n  dataset: {type: text_folder, path: corpus}\n  max_len: long\noptimizer: {type: adam}\n' });
  try {
    loadConfig(join(dir, 'child.yaml'));
    assert.unreachable();
  } catch (error) {
    const d = only((error as ConfigDiagnosticsError).diagnostics);
    assert.is(d.position?.file, join(dir, 'base', 'base.yaml'));
    assert.is(d.position?.line, 3);
  }
});

test('extends cycles are an error naming the chain', () => {
  const { diagnostics } = diagnose('extends: other.yaml\n' + valid, [], { 'other.yaml': 'extends: config.yaml\n' });
  assert.match(only(diagnostics).message, 'cycle');
});

test('guards: duplicate keys, __proto__ keys, alias bombs', () => {
  assert.match(only(diagnose(valid + 'name: again\n').diagnostics).message, 'duplicate key');
  assert.match(only(diagnose(valid + '__proto__: {polluted: true}\n').diagnostics).message, "'__proto__' is not allowed");
  assert.is(({} as Record<string, unknown>).polluted, undefined);
  const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 9; i++)
    bomb.push(
      `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
        .fill('*' + String.fromCharCode(96 + i))
        .join(', ')}]`,
    );
  const dir = writeTree(tempDir(), { 'bomb.yaml': bomb.join('\n') + '\n' });
  assert.throws(
    () => loadConfig(join(dir, 'bomb.yaml')),
    (e: unknown) => e instanceof UserError && /alias/i.test((e as Error).message),
  );
});

test('a missing config file is a UserError', () => {
  assert.throws(
    () => loadConfig(join(tempDir(), 'nope.yaml')),
    (e: unknown) => e instanceof UserError && /does not exist/.test((e as Error).message),
  );
});

test('the quick-start config is valid', () => {
  const loaded = loadConfig(fixture('..', '..', 'configs', 'quickstart.yaml'));
  assert.is(loaded.config.name, 'quickstart');
});

test.run();

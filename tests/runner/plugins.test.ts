// User components end to end, through real `runner` processes (a plugin registers into the process that imports it,
// so these tests never import one here): validate, run (real MLflow), predict from the run folder, components,
// schema --plugins, a sweep over a plugin component, and every plugin error with its module named.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConnection } from '../../runner/tracking/auth.ts';
import { MlflowClient } from '../../runner/tracking/client.ts';
import { runCli } from '../helpers/cli.ts';
import { fixture, PROJECT_ROOT, tempDir, writeTree } from '../helpers/files.ts';
import { getTestServer, uniqueName, type TestServer } from '../helpers/mlflow.ts';

const EXAMPLE = join(PROJECT_ROOT, 'examples', 'plugins', 'my_components.ts');
const EXAMPLE_CONFIG = 'examples/plugins/experiment.yaml';
const PUBLIC = JSON.stringify(join(PROJECT_ROOT, 'runner', 'plugin.ts'));

let server: TestServer;
test.before(async () => {
  server = await getTestServer();
});
test.after(async () => server.stop());

/** A tiny experiment on the sentence fixture with the example plugin's components; `plugins` is its YAML list. */
function pluginConfig(plugins: string, extra = ''): string {
  return `name: plugin-test
plugins: ${plugins}
seed: 1
data:
  dataset: {type: text_folder, path: ${JSON.stringify(fixture('sentences'))}}
  tokenizer: {type: char_ngrams, n: 3}
  max_len: 40
  batch_size: 32
model: {type: bag_mlp, embed_size: 8, hidden: 8}
optimizer: {type: adam, lr: 0.01}
train: {epochs: 1, log_every_steps: 5}
tracking: false
${extra}`;
}

const onlyRun = (runsDir: string, experiment: string) => join(runsDir, experiment, readdirSync(join(runsDir, experiment))[0]!);

test('runner validate: the example config (plugins relative to it) is valid; without its plugins, bag_mlp is unknown', async () => {
  const ok = await runCli(['validate', EXAMPLE_CONFIG]);
  assert.is(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, `ok      ${EXAMPLE_CONFIG}`);
  const dir = tempDir();
  writeTree(dir, { 'c.yaml': pluginConfig('[]') });
  const without = await runCli(['validate', join(dir, 'c.yaml')]);
  assert.is(without.code, 2);
  assert.match(without.stdout, "unknown tokenizer 'char_ngrams'");
  assert.match(without.stdout, "unknown model 'bag_mlp'");
});

test('runner run trains a plugin model to MLflow; runner predict loads the plugin from the run folder', async () => {
  const runsDir = tempDir();
  const experiment = uniqueName('plugin-run');
  const result = await runCli(['run', EXAMPLE_CONFIG, '--runs-dir', runsDir, '--set', 'train.epochs=2'], {
    env: { MLFLOW_TRACKING_URI: server.uri, MLFLOW_EXPERIMENT_NAME: experiment },
  });
  assert.is(result.code, 0, result.stderr);
  const runDir = onlyRun(runsDir, 'plugin-example');
  const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'));
  assert.is(summary.status, 'FINISHED');
  assert.is(summary.epochs_completed, 2);
  assert.match(readFileSync(join(runDir, 'config.yaml'), 'utf8'), EXAMPLE); // resolved, so the run folder alone finds it
  const run = await new MlflowClient(resolveConnection(server.uri, {})).getRun(summary.mlflow_run_id);
  assert.is(run?.info.status, 'FINISHED');
  const params = Object.fromEntries((run?.data.params ?? []).map((p) => [p.key, p.value]));
  assert.is(params['model.type'], 'bag_mlp');
  assert.is(params['data.tokenizer.type'], 'char_ngrams');

  const predicted = await runCli(['predict', runDir, 'a fine sentence', '--json']);
  assert.is(predicted.code, 0, predicted.stderr);
  assert.match(predicted.stdout, /"label"/);
});

test('runner components --plugins lists plugin components; without it they are absent', async () => {
  const listed = await runCli(['components', 'tokenizer', '--plugins', EXAMPLE]);
  assert.is(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /char_ngrams — Character n-grams/);
  assert.match(listed.stdout, /n \(integer, default 3\)/);
  const plain = await runCli(['components', 'tokenizer']);
  assert.not.match(plain.stdout, 'char_ngrams');
});

test('runner schema --plugins writes editor schemas with plugin components to --out, never to schemas/', async () => {
  const out = join(tempDir(), 'schemas');
  const written = await runCli(['schema', '--plugins', EXAMPLE, '--out', out]);
  assert.is(written.code, 0, written.stderr);
  const schema = JSON.parse(readFileSync(join(out, 'experiment.schema.json'), 'utf8'));
  assert.ok(schema.$defs['model.bag_mlp'], Object.keys(schema.$defs).join(', '));
  assert.ok(schema.$defs['tokenizer.char_ngrams']);
  assert.ok(schema.properties.model.properties.type.enum.includes('bag_mlp'));
  assert.match(readFileSync(join(out, 'model.schema.json'), 'utf8'), '"bag_mlp"');
  assert.not.ok(existsSync(join(out, '..', 'docs')), 'the reference describes built-in components only');
  const committed = JSON.parse(readFileSync(join(PROJECT_ROOT, 'schemas', 'experiment.schema.json'), 'utf8'));
  assert.not.ok(committed.$defs['model.bag_mlp']);
  const refused = await runCli(['schema', '--plugins', EXAMPLE]);
  assert.is(refused.code, 2);
  assert.match(refused.stderr, 'needs --out <dir>');
});

test('runner sweep over a plugin component: every trial process loads the plugin', async () => {
  const dir = tempDir();
  writeTree(dir, { 'sweep.yaml': pluginConfig(JSON.stringify([EXAMPLE]), 'sweep:\n  matrix:\n    model.hidden: [4, 8]\n') });
  const runsDir = join(dir, 'runs');
  const result = await runCli(['sweep', join(dir, 'sweep.yaml'), '--runs-dir', runsDir]);
  assert.is(result.code, 0, result.stderr + result.stdout);
  const runs = readdirSync(join(runsDir, 'plugin-test')).filter((name) => !name.startsWith('sweep'));
  const statuses = runs
    .map((run) => join(runsDir, 'plugin-test', run, 'summary.json'))
    .filter((file) => {
      try {
        return readFileSync(file);
      } catch {
        return false;
      }
    })
    .map((file) => JSON.parse(readFileSync(file, 'utf8')).status);
  assert.equal(statuses, ['FINISHED', 'FINISHED'], runs.join(', '));
});

test('plugin errors: exit 2, located at the plugins entry, the module named, no stack trace', async () => {
  const dir = tempDir();
  const component = (name: string) =>
    `defineComponent({ name: '${name}', summary: 's', params: Type.Object({}), build: () => ({ tokenize: (t: string) => [t] }) })`;
  const header = `import { defineComponent, definePlugin, Type } from ${PUBLIC};\n`;
  writeTree(dir, {
    'package.json': '{"type": "module"}\n',
    'throws.ts': "throw new Error('boom while importing');\n",
    'empty.ts': 'export const nothing = 1;\n',
    'builtin.ts': `${header}export default definePlugin({ tokenizer: [${component('whitespace')}] });\n`,
    'first.ts': `${header}export default definePlugin({ tokenizer: [${component('mine')}] });\n`,
    'second.ts': `${header}export default definePlugin({ tokenizer: [${component('mine')}] });\n`,
    'kind.ts': `${header}export default { modle: [${component('x')}] };\n`,
  });
  const cases: [string, string, RegExp][] = [
    ['[./missing.ts]', 'plugins[0]', /plugin \S*missing\.ts does not exist/],
    ['[./throws.ts]', 'plugins[0]', /plugin \S*throws\.ts failed to load: Error: boom while importing/],
    ['[./empty.ts]', 'plugins[0]', /plugin \S*empty\.ts exports no components: it must export default definePlugin/],
    ['[./builtin.ts]', 'plugins[0]', /plugin \S*builtin\.ts: tokenizer 'whitespace' is already registered by the runner \(built in\)/],
    ['[./first.ts, ./second.ts]', 'plugins[1]', /plugin \S*second\.ts: tokenizer 'mine' is already registered by plugin \S*first\.ts/],
    ['[./kind.ts]', 'plugins[0]', /plugin \S*kind\.ts: unknown component kind 'modle'\. Did you mean 'model'\?/],
  ];
  for (const [plugins, path, message] of cases) {
    const file = join(dir, 'c.yaml');
    writeTree(dir, { 'c.yaml': pluginConfig(plugins) });
    const result = await runCli(['run', file]);
    assert.is(result.code, 2, `${plugins}: ${result.stderr}`);
    assert.match(result.stderr, `${file}:2:`, result.stderr);
    assert.match(result.stderr, ` ${path}: `, result.stderr);
    assert.match(result.stderr, message, result.stderr);
    assert.not.match(result.stderr, /\n\s+at /);
  }
  const direct = await runCli(['components', '--plugins', join(dir, 'empty.ts')]);
  assert.is(direct.code, 2);
  assert.match(direct.stderr, /runner: plugin \S*empty\.ts exports no components/);
});

test.run();

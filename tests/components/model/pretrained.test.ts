import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import { createServer, type Server } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { models } from '../../../components/model/index.ts';
import { UserError } from '../../../runner/errors.ts';
import { saveModel } from '../../../runner/run/model-io.ts';
import { withSeededMathRandom } from '../../../runner/train/random.ts';
import { tempDir } from '../../helpers/files.ts';
import { assertSameAfterSaveLoad, separableImages, sgdFor, trainSteps, weightValues } from './image-helpers.ts';

process.env.RUNNER_CACHE_DIR = tempDir('runner-cache-');
const context = { numClasses: 2, inputShape: [16, 16, 3] };

/** A small CNN trained a little on a 3-class task and saved: the "pretrained" model of these tests. */
const saved = await withSeededMathRandom(7, async () => {
  const base = await models.build({ type: 'small_cnn', channels: [4, 8] }, { numClasses: 3, inputShape: [16, 16, 3] });
  const { x } = separableImages(12, 16);
  const y = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2], 'int32');
  const { optimizer } = sgdFor(base, 0.05, 0, []);
  trainSteps(base, optimizer, x, y, 3);
  const dir = tempDir();
  await saveModel(base, dir);
  const probe = separableImages(4, 16, 9).x;
  const features = tf.tidy(() =>
    (tf.model({ inputs: base.inputs, outputs: base.getLayer('pool2').output }).predict(probe) as tf.Tensor).arraySync(),
  );
  const weights = { kernel: weightValues(base, 'conv2/kernel'), movingMean: weightValues(base, 'conv1_bn/moving_mean') };
  optimizer.dispose();
  base.dispose();
  return { dir, probe, features, weights };
});

const build = (params: Record<string, unknown>, ctx = context) =>
  withSeededMathRandom(1, async () => models.build({ type: 'pretrained', path: saved.dir, cut_at: 'pool2', ...params }, ctx));

const close = (a: Float32Array | number[], b: Float32Array | number[], tolerance = 1e-6) =>
  a.length === b.length && Array.from(a).every((v, i) => Math.abs(v - b[i]!) <= tolerance);

const bodyFeatures = (model: tf.LayersModel) =>
  tf.tidy(() =>
    (tf.model({ inputs: model.inputs, outputs: model.getLayer('pool2').output }).predict(saved.probe) as tf.Tensor).arraySync(),
  );

test('loads the saved model, cuts it at cut_at and adds a new head_* head for this task', async () => {
  const model = await build({ head: { units: [6], dropout: 0.1 } });
  assert.equal(model.outputs[0]!.shape, [null, 2]);
  assert.equal(model.layers.map((l) => l.name).slice(-4), ['head_pool', 'head_dense_0', 'head_dropout', 'head_logits']);
  assert.ok(!model.layers.some((l) => l.name === 'conv2_relu' && false));
  assert.ok(close(weightValues(model, 'conv2/kernel'), saved.weights.kernel), 'body weights are the saved ones');
  assert.equal(bodyFeatures(model), saved.features, 'the body computes what the saved model computed');
  model.dispose();
});

test('param groups: the head_* variables form the ×10 group; SGD weight decay 0.001 reaches every group', async () => {
  const model = await build({});
  const { plan, optimizer } = sgdFor(model, 0.01, 0.001, [{ name: 'head', match: ['^head_'], lr_mult: 10 }]);
  const [body, head] = plan.groups;
  assert.equal(
    head!.variables.map((v) => v.originalName),
    ['head_logits/kernel', 'head_logits/bias'],
  );
  assert.equal([head!.lr, head!.weightDecay], [0.1, 0.001]);
  assert.equal([body!.lr, body!.weightDecay], [0.01, 0.001]);
  assert.ok(body!.variables.some((v) => v.originalName === 'conv1/kernel'));
  assert.ok(body!.variables.every((v) => !v.originalName.startsWith('head_')));
  optimizer.dispose();
  model.dispose();
});

test('freeze: only the head trains; body weights and batch-norm statistics stay as saved', async () => {
  const model = await build({ freeze: true });
  assert.ok(model.trainableWeights.every((w) => w.originalName.startsWith('head_')));
  const { x, y } = separableImages(16, 16, 3);
  const { optimizer } = sgdFor(model, 0.05, 0.001, [{ name: 'head', match: ['^head_'], lr_mult: 10 }]);
  const headBefore = weightValues(model, 'head_logits/kernel').slice();
  const losses = trainSteps(model, optimizer, x, y, 25);
  assert.ok(losses.at(-1)! < losses[0]!, `loss ${losses[0]} → ${losses.at(-1)}`);
  assert.ok(!close(weightValues(model, 'head_logits/kernel'), headBefore), 'the head moved');
  assert.ok(close(weightValues(model, 'conv2/kernel'), saved.weights.kernel), 'the body did not');
  assert.ok(close(weightValues(model, 'conv1_bn/moving_mean'), saved.weights.movingMean), 'frozen batch norm stays in inference mode');
  for (const t of [x, y]) t.dispose();
  optimizer.dispose();
  model.dispose();
});

test('fine-tuning everything (freeze: false) moves the body and the batch-norm statistics too; the result saves and loads', async () => {
  const model = await build({});
  const { x, y } = separableImages(16, 16, 4);
  const { optimizer } = sgdFor(model, 0.05, 0.001, [{ name: 'head', match: ['^head_'], lr_mult: 10 }]);
  trainSteps(model, optimizer, x, y, 2);
  assert.ok(!close(weightValues(model, 'conv2/kernel'), saved.weights.kernel));
  assert.ok(!close(weightValues(model, 'conv1_bn/moving_mean'), saved.weights.movingMean));
  await assertSameAfterSaveLoad(model, x);
  for (const t of [x, y]) t.dispose();
  optimizer.dispose();
  model.dispose();
});

/** Serves `dir` on 127.0.0.1 and counts requests. */
async function serve(dir: string): Promise<{ url: string; requests: string[]; server: Server }> {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    requests.push(request.url!);
    try {
      const body = readFileSync(join(dir, normalize(decodeURIComponent(request.url!.split('?')[0]!)).replace(/^(\.\.[/\\])+/, '')));
      response.writeHead(200).end(body);
    } catch {
      response.writeHead(404, 'Not Found').end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server };
}

test('a URL is downloaded once (model.json and weights) into the cache, then loads like the local copy', async () => {
  const { url, requests, server } = await serve(saved.dir);
  try {
    const model = await build({ path: `${url}/model.json` });
    assert.equal(requests.sort(), ['/model.json', '/weights.bin']);
    assert.equal(bodyFeatures(model), saved.features);
    model.dispose();
    const again = await build({ path: `${url}/model.json` });
    assert.is(requests.length, 2, 'the second build reads the cache');
    again.dispose();
    try {
      await build({ path: `${url}/missing/model.json` });
      assert.unreachable();
    } catch (error) {
      assert.instance(error, UserError);
      assert.match((error as Error).message, `Downloading ${url}/missing/model.json failed: HTTP 404`);
    }
  } finally {
    server.close();
  }
});

test('bad input: unknown cut_at (with a suggestion), wrong input size, missing path, not a LayersModel', async () => {
  const expectError = async (promise: Promise<unknown>, pattern: RegExp) => {
    try {
      await promise;
      assert.unreachable();
    } catch (error) {
      assert.instance(error, UserError, String(error));
      assert.match((error as Error).message, pattern);
    }
  };
  await expectError(build({ cut_at: 'pool_2' }), /has no layer 'pool_2'; did you mean 'pool2'\?/);
  await expectError(
    build({}, { numClasses: 2, inputShape: [20, 20, 3] }),
    /takes inputs of shape \[16, 16, 3\] but the data pipeline gives \[20, 20, 3\]/,
  );
  await expectError(build({ path: join(saved.dir, 'nope') }), /does not exist/);
  await expectError(build({}, { numClasses: 2, inputShape: [40], vocabSize: 9 } as typeof context), /reads images/);
  const graph = tempDir();
  writeFileSync(join(graph, 'model.json'), JSON.stringify({ format: 'graph-model', modelTopology: {}, weightsManifest: [] }));
  await expectError(build({ path: graph }), /GraphModel/);
});

test.run();

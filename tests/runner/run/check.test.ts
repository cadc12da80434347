import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { models } from '../../../components/model/index.ts';
import { ConfigDiagnosticsError, type Diagnostic } from '../../../runner/config/diagnostics.ts';
import { formatPath } from '../../../runner/config/issues.ts';
import { saveModel } from '../../../runner/run/model-io.ts';
import { planSweepChecked } from '../../../runner/sweep/plan.ts';
import { fixture, tempDir, writeTree } from '../../helpers/files.ts';

const sentences = fixture('sentences');

/** Every error of the static check of `yaml` as `line:col path` (file order), or [] when it passes. */
async function errorsOf(yaml: string): Promise<string[]> {
  const file = join(writeTree(tempDir(), { 'config.yaml': yaml }), 'config.yaml');
  try {
    await planSweepChecked(file);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigDiagnosticsError)) throw error;
    return error.diagnostics.map(where);
  }
}

function where(d: Diagnostic): string {
  assert.ok(d.position, `located in the file: ${d.message}`);
  return `${d.position!.line}:${d.position!.col} ${formatPath(d.path)}`;
}

/** `line:col path` of the first occurrence of `needle` in `yaml`: where a diagnostic about `path` must point. */
function at(yaml: string, needle: string, path: string): string {
  const before = yaml.slice(0, yaml.indexOf(needle)).split('\n');
  assert.ok(yaml.includes(needle), needle);
  return `${before.length}:${before.at(-1)!.length + 1} ${path}`;
}

test('every data-free problem at once, each at the key that causes it', async () => {
  const yaml = `name: t
data:
  dataset: {type: text_folder, path: ${sentences}-missing}
  max_len: 4
model: {type: textcnn, embed_size: 4, kernel_sizes: [2, 3, 5], num_channels: [4, 4]}
optimizer:
  type: sgd
  nesterov: true
  param_groups:
    - {match: ['dense(']}
train: {epochs: 1}
`;
  assert.equal(await errorsOf(yaml), [
    at(yaml, `${sentences}-missing`, 'data.dataset.path'),
    at(yaml, '5]', 'model.kernel_sizes[2]'),
    at(yaml, '[4, 4]', 'model.num_channels'),
    at(yaml, 'true', 'optimizer.nesterov'),
    at(yaml, "'dense('", 'optimizer.param_groups[0].match[0]'),
  ]);
});

test('param_groups are resolved against the model built on a placeholder vocabulary: overlaps are errors, misses warnings', async () => {
  const yaml = (groups: string) => `name: t
data: {dataset: {type: text_folder, path: ${sentences}}, max_len: 8}
model: {type: textcnn, embed_size: 4, kernel_sizes: [2], num_channels: [4]}
optimizer:
  type: adam
  param_groups:
${groups}
train: {epochs: 1}
`;
  const before = tf.memory().numTensors;
  const overlapping = yaml("    - {match: ['^dense/']}\n    - {match: ['kernel']}");
  assert.equal(await errorsOf(overlapping), [at(overlapping, "['kernel']", 'optimizer.param_groups[1].match')]);
  const file = join(writeTree(tempDir(), { 'c.yaml': yaml("    - {match: ['^nothing']}") }), 'c.yaml');
  const { warnings } = await planSweepChecked(file);
  assert.equal(warnings.map(where), ['7:16 optimizer.param_groups[0].match[0]']);
  assert.match(warnings[0]!.message, 'matches no trainable variable');
  assert.is(tf.memory().numTensors, before, 'the placeholder model is released');
});

test('images: training and evaluation sizes through the augmentation steps; a pretrained model from its model.json', async () => {
  const dir = tempDir();
  const base = await models.build({ type: 'small_cnn', channels: [4] }, { numClasses: 2, inputShape: [16, 16, 3] });
  await saveModel(base, join(dir, 'model'));
  base.dispose();
  const yaml = (augmentation: string, model: string) => `name: t
data:
  dataset: {type: image_folder, path: ${dir}, image_size: 20}
  augmentation: ${augmentation}
model: ${model}
optimizer: {type: adam, param_groups: [{match: ['^head_'], lr_mult: 10}]}
train: {epochs: 1}
`;
  const pretrained = `{type: pretrained, path: ${dir}/model/model.json, cut_at: pool1}`;
  const crops = '[{type: random_resized_crop, size: 16}, {type: center_crop, size: 16, apply_to: test}]';
  assert.equal(await errorsOf(yaml(crops, pretrained)), []);
  const trainOnly = yaml('[{type: random_resized_crop, size: 16}]', pretrained);
  assert.equal(await errorsOf(trainOnly), [at(trainOnly, '[{type: random', 'data.augmentation')]);
  const wrongSize = yaml('[{type: center_crop, size: 18}]', pretrained);
  assert.equal(await errorsOf(wrongSize), [at(wrongSize, `${dir}/model/`, 'model.path')]);
  const noLayer = yaml(crops, pretrained.replace('pool1', 'pool_1'));
  assert.equal(await errorsOf(noLayer), [at(noLayer, 'pool_1', 'model.cut_at')]);
  rmSync(join(dir, 'model', 'weights.bin'));
  const noWeights = yaml(crops, pretrained);
  assert.equal(await errorsOf(noWeights), [at(noWeights, `${dir}/model/`, 'model.path')]);
});

test.run();

import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import { loadConfig } from '../../../runner/config/load.ts';
import { UserError } from '../../../runner/errors.ts';
import { buildExperiment, describeBuilt, disposeBuilt } from '../../../runner/run/build.ts';
import { fixture, tempDir, writeTree } from '../../helpers/files.ts';

const context = { configDir: '.', warn() {} };
// Vectors for two words of the sentence fixture; everything else is oov.
const vectors = 'the 0.5 0.25 -1 2\nmovie 1 2 3 4\nnotaword 9 9 9 9\n';

function experiment(model: string, embedding: string) {
  const dir = writeTree(tempDir(), {
    'glove.txt': vectors,
    'experiment.yaml': `name: glove-test
seed: 1
data:
  dataset: {type: text_folder, path: ${JSON.stringify(fixture('sentences'))}}
  vocab: {min_freq: 1}
  max_len: 12
  embedding: ${embedding}
model: ${model}
optimizer: {type: adam}
tracking: false
`,
  });
  return loadConfig(join(dir, 'experiment.yaml'), []).config;
}

const textcnn = '{type: textcnn, embed_size: 4, kernel_sizes: [2], num_channels: [3]}';
const birnn = '{type: birnn, embed_size: 4, num_hiddens: 3, num_layers: 1}';

test('textcnn: both embeddings start from the file (relative path resolved), oov rows zero; freeze: false trains one', async () => {
  const built = await buildExperiment(experiment(textcnn, '{type: glove, path: glove.txt, freeze: false}'), context);
  try {
    const vocab = built.data.vocab!;
    for (const layer of ['embedding', 'constant_embedding']) {
      const rows = built.model.getLayer(layer).getWeights()[0]!.arraySync() as number[][];
      assert.equal(rows[vocab.id('the')], [0.5, 0.25, -1, 2], layer);
      assert.equal(rows[vocab.id('movie')], [1, 2, 3, 4], layer);
      assert.equal(rows[0], [0, 0, 0, 0], `${layer}: <pad>`);
    }
    assert.is(built.model.getLayer('embedding').trainable, true);
    assert.is(built.model.getLayer('constant_embedding').trainable, false);
    assert.is(built.embedding?.found, 2);
    assert.is(built.embedding?.oov, vocab.size - 2 - 2);
    assert.match(describeBuilt(built), `There are ${vocab.size - 4} oov words.`);
  } finally {
    disposeBuilt(built);
  }
});

test('freeze: true (default) freezes every embedding that got the vectors: birnn and both of textcnn', async () => {
  for (const model of [birnn, textcnn]) {
    const built = await buildExperiment(experiment(model, '{type: glove, path: glove.txt}'), context);
    try {
      const trainable = built.plan.groups.flatMap((g) => g.variables.map((v) => v.originalName));
      assert.not.ok(
        trainable.some((name) => name.includes('embedding')),
        `${model}: ${trainable.join(', ')}`,
      );
      assert.ok(built.plan.frozenLayers.some((v) => v.originalName === 'embedding/embeddings'));
    } finally {
      disposeBuilt(built);
    }
  }
});

test("a file whose width differs from the model's embed_size is a UserError naming it", async () => {
  const config = experiment(textcnn.replace('embed_size: 4', 'embed_size: 5'), '{type: glove, path: glove.txt}');
  try {
    await buildExperiment(config, context);
    assert.unreachable();
  } catch (error) {
    assert.instance(error, UserError);
    assert.match((error as Error).message, /glove\.txt holds 4-dimensional vectors, but the model's embedding is 5-dimensional/);
  }
});

test.run();

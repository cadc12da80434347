import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import { tokenizers } from '../../../components/tokenizer/index.ts';
import { EncodePool } from '../../../runner/data/text-encode.ts';
import { encodeTextDataset, encodeTextDatasetInParallel } from '../../../runner/data/text-pipeline.ts';
import type { TextDataset } from '../../../runner/data/types.ts';
import { Vocab } from '../../../runner/data/vocab.ts';
import { seededRandom } from '../../../runner/train/random.ts';

const tokenizer = tokenizers.build({ type: 'whitespace' }, { configDir: '.', warn() {} });

function randomTexts(count: number, seed: number): string[] {
  const random = seededRandom(seed);
  const words = ['the', 'The', 'film', 'good', 'bad', '<pad>', '<unk>', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'rare'];
  return Array.from({ length: count }, () =>
    Array.from({ length: Math.floor(random() * 14) }, () => words[Math.floor(random() * words.length)]).join(random() < 0.5 ? ' ' : '  \t'),
  );
}

test('the one-pass encoder equals tokenize → Vocab.build → encode (min_freq, max_size, truncation, specials in text)', () => {
  const dataset: TextDataset = {
    kind: 'text',
    classes: ['neg', 'pos'],
    source: 'test',
    train: { texts: randomTexts(60, 1), labels: new Int32Array(60) },
    test: { texts: [...randomTexts(30, 2), 'never seen words', ''], labels: new Int32Array(32) },
  };
  for (const options of [
    { minFreq: 1, maxLen: 8 },
    { minFreq: 5, maxLen: 20 },
    { minFreq: 1, maxSize: 6, maxLen: 5 },
  ]) {
    const encoded = encodeTextDataset(dataset, tokenizer, options);
    const trainTokens = dataset.train.texts.map((t) => tokenizer.tokenize(t));
    const vocab = Vocab.build(trainTokens, options);
    assert.equal(encoded.vocab.tokens, vocab.tokens, JSON.stringify(options));
    assert.equal([...encoded.train.ids], [...vocab.encode(trainTokens, options.maxLen)]);
    assert.equal(
      [...encoded.test.ids],
      [
        ...vocab.encode(
          dataset.test.texts.map((t) => tokenizer.tokenize(t)),
          options.maxLen,
        ),
      ],
    );
    assert.equal([encoded.train.count, encoded.test.count], [60, 32]);
  }
});

test('shared with a worker thread (or falling back when it cannot start), the result is identical', async () => {
  const dataset: TextDataset = {
    kind: 'text',
    classes: ['neg', 'pos'],
    source: 'test',
    train: { texts: randomTexts(4100, 3), labels: new Int32Array(4100) },
    test: { texts: randomTexts(900, 4), labels: new Int32Array(900) },
  };
  const options = { minFreq: 3, maxLen: 9 };
  const expected = encodeTextDataset(dataset, tokenizer, options);
  for (const config of [{ type: 'whitespace' }, { type: 'no_such_tokenizer' }]) {
    const pool = new EncodePool(config, 2);
    assert.is(pool.workers.length, 2);
    const actual = await encodeTextDatasetInParallel(dataset, tokenizer, pool, options);
    assert.equal(actual.vocab.tokens, expected.vocab.tokens, config.type);
    assert.equal([...actual.train.ids], [...expected.train.ids], config.type);
    assert.equal([...actual.test.ids], [...expected.test.ids], config.type);
  }
  assert.is(new EncodePool(undefined).workers.length, 0, 'no tokenizer named: no threads');
});

test.run();

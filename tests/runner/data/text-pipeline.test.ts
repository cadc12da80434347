import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import { tokenizers } from '../../../components/tokenizer/index.ts';
import { indexTexts } from '../../../runner/data/text-encode.ts';
import { encodeTextDataset } from '../../../runner/data/text-pipeline.ts';
import { indexTextsByWhitespace } from '../../../runner/data/whitespace-index.ts';
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

// Every character JavaScript's \s matches, some it does not (U+0085, U+200B, U+180E), case that
// changes length when lower-cased (İ), astral characters, HTML, punctuation.
const tricky = [
  '',
  '   ',
  'The  film\tWAS\n\ngreat',
  ' lead and trail ',
  'a\u000bb\u000cc\rd\u00a0e\u1680f\u2000g\u2005h\u200ai\u2028j\u2029k\u202fl\u205fm\u3000n\ufeffo',
  'it\u0085s zero\u200bwidth mongolian\u180evowel',
  'İSTANBUL straße ΣΊΣΥΦΟΣ 🎬🎬 film',
  'lone \ud800 surrogates\udc00x and a very long token ' + 'x'.repeat(9000),
  'A <br /><br />great film!!! (10/10) "quotes" don\'t',
];

test('the whitespace scanner equals the whitespace tokenizer through the generic path (tricky texts, both cases)', () => {
  const random = seededRandom(9);
  const pieces = [...tricky, 'the', 'The', 'THE', ' ', '\u00a0', '\u0085', 'İ', '🎬'];
  const generated = Array.from({ length: 300 }, () =>
    Array.from({ length: Math.floor(random() * 30) }, () => pieces[Math.floor(random() * pieces.length)]).join(''),
  );
  for (const lowercase of [true, false]) {
    const tok = tokenizers.build({ type: 'whitespace', lowercase }, { configDir: '.', warn() {} });
    for (const maxLen of [3, 50]) {
      const train = [...tricky, ...generated.slice(0, 200)];
      const test = [...[...tricky].reverse(), ...generated.slice(200)];
      assert.equal(
        indexTextsByWhitespace(lowercase, train, test, maxLen),
        indexTexts(tok, train, test, maxLen),
        `lowercase ${lowercase}, maxLen ${maxLen}`,
      );
    }
  }
});

test('encodeTextDataset: the whitespace config takes the scanner, with the same result; other configs the generic path', () => {
  const dataset: TextDataset = {
    kind: 'text',
    classes: ['neg', 'pos'],
    source: 'test',
    train: { texts: [...tricky, ...randomTexts(50, 3)], labels: new Int32Array(58) },
    test: { texts: randomTexts(20, 4), labels: new Int32Array(20) },
  };
  const options = { minFreq: 1, maxLen: 9 };
  const expected = encodeTextDataset(dataset, tokenizer, options);
  for (const tokenizerConfig of [{ type: 'whitespace' }, { type: 'whitespace', lowercase: true }, { type: 'basic' }]) {
    const actual = encodeTextDataset(dataset, tokenizer, { ...options, tokenizerConfig });
    assert.equal(actual.vocab.tokens, expected.vocab.tokens, tokenizerConfig.type);
    assert.equal([...actual.train.ids], [...expected.train.ids]);
    assert.equal([...actual.test.ids], [...expected.test.ids]);
  }
  const cased = encodeTextDataset(dataset, tokenizer, { ...options, tokenizerConfig: { type: 'whitespace', lowercase: false } });
  assert.ok(cased.vocab.tokens.includes('İSTANBUL'), 'lowercase: false keeps case');
});

test.run();

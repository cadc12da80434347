import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PAD_ID, UNK_ID, Vocab } from '../../../runner/data/vocab.ts';

const texts = [['b', 'a', 'c', 'a'], ['a', 'b', 'd'], ['e']];

test('specials first (<pad>=0, <unk>=1), then by frequency, ties alphabetical', () => {
  const vocab = Vocab.build(texts, { minFreq: 1 });
  assert.equal(vocab.tokens, ['<pad>', '<unk>', 'a', 'b', 'c', 'd', 'e']);
  assert.is(vocab.id('<pad>'), PAD_ID);
  assert.is(vocab.id('nope'), UNK_ID);
});

test('min_freq and max_size', () => {
  assert.equal(Vocab.build(texts, { minFreq: 2 }).tokens, ['<pad>', '<unk>', 'a', 'b']);
  assert.equal(Vocab.build(texts, { minFreq: 1, maxSize: 3 }).tokens, ['<pad>', '<unk>', 'a']);
});

test('specials in the text are not counted twice', () => {
  assert.equal(Vocab.build([['<pad>', '<unk>', 'x']], { minFreq: 1 }).tokens, ['<pad>', '<unk>', 'x']);
});

test('encode: truncates and pads at the end; unknown tokens become <unk>', () => {
  const vocab = Vocab.build(texts, { minFreq: 1 });
  assert.equal([...vocab.encode([['a', 'b', 'c', 'd'], ['zzz'], []], 3)], [2, 3, 4, 1, 0, 0, 0, 0, 0]);
});

test('vocab.txt round trip', () => {
  const vocab = Vocab.build(texts, { minFreq: 1 });
  assert.equal(Vocab.parse(vocab.serialize()).tokens, vocab.tokens);
});

test.run();

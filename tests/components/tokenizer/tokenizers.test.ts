import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tokenizers } from '../../../components/tokenizer/index.ts';

const context = { configDir: '.', warn() {} };

test('whitespace: lower-cases and splits on runs of whitespace (newlines included)', () => {
  const tokenizer = tokenizers.build({ type: 'whitespace', lowercase: true }, context);
  assert.equal(tokenizer.tokenize('  This  Movie\twas\nGREAT!  '), ['this', 'movie', 'was', 'great!']);
  assert.equal(tokenizer.tokenize(''), []);
  assert.equal(tokenizer.tokenize('   '), []);
});

test('whitespace: lowercase can be turned off', () => {
  const tokenizer = tokenizers.build({ type: 'whitespace', lowercase: false }, context);
  assert.equal(tokenizer.tokenize('Hello World'), ['Hello', 'World']);
});

test('basic: words and punctuation apart, <br /> removed, contractions kept', () => {
  const tokenizer = tokenizers.build({ type: 'basic', lowercase: true }, context);
  assert.equal(tokenizer.tokenize("Great film!<br /><br />Didn't like the END... 10/10"), [
    'great',
    'film',
    '!',
    "didn't",
    'like',
    'the',
    'end',
    '.',
    '.',
    '.',
    '10',
    '/',
    '10',
  ]);
  assert.equal(tokenizer.tokenize('Ça été très bien'), ['ça', 'été', 'très', 'bien']);
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { datasets } from '../../../components/dataset/index.ts';
import { parseDelimited } from '../../../components/dataset/table-formats.ts';
import { UserError } from '../../../runner/errors.ts';
import { rejectsAtKey } from '../../helpers/errors.ts';
import type { TextDataset } from '../../../runner/data/types.ts';
import { tempDir, writeTree } from '../../helpers/files.ts';

const context = { configDir: '.', warn() {} };

test('CSV with quoting, TSV and JSONL give the same dataset', async () => {
  const dir = writeTree(tempDir(), {
    'train.csv': 'id,review,sentiment\n1,"Loved it, ""truly""",pos\n2,"Bad\nfilm",neg\n3,meh,neg\n',
    'test.csv': 'id,review,sentiment\n4,fine,pos\n5,no,neg\n',
    'train.tsv': 'review\tsentiment\nLoved it, "truly"\tpos\nBadfilm\tneg\nmeh\tneg\n',
    'test.tsv': 'review\tsentiment\nfine\tpos\nno\tneg\n',
    'train.jsonl':
      '{"review": "Loved it, \\"truly\\"", "sentiment": "pos"}\n{"review": "Bad\\nfilm", "sentiment": "neg"}\n{"review": "meh", "sentiment": "neg"}\n',
    'test.jsonl': '{"review": "fine", "sentiment": "pos"}\n\n{"review": "no", "sentiment": "neg"}\n',
  });
  for (const ext of ['csv', 'tsv', 'jsonl']) {
    const data = await datasets.build(
      {
        type: 'text_table',
        train: join(dir, `train.${ext}`),
        test: join(dir, `test.${ext}`),
        text_column: 'review',
        label_column: 'sentiment',
      },
      context,
    );
    if (data.kind !== 'text') throw new Error(`text_table built a ${data.kind} dataset`);
    assert.ok(data.kind === 'text');
    assert.equal(data.train.texts, ['Loved it, "truly"', 'Badfilm', 'meh'], ext);
    assert.equal([...data.train.labels], [1, 0, 0], ext);
    assert.equal(data.classes, ['neg', 'pos']);
  }
});

test('parseDelimited handles CRLF and an unterminated quote is an error', () => {
  assert.equal(parseDelimited('a,b\r\n1,2\r\n', ',', 'x'), [
    ['a', 'b'],
    ['1', '2'],
  ]);
  assert.throws(
    () => parseDelimited('a\n"open', ',', 'f.csv'),
    (e: unknown) => e instanceof UserError && /never closed/.test((e as Error).message),
  );
});

test('a missing column or a bad JSON line names the file', async () => {
  const dir = writeTree(tempDir(), { 'a.csv': 'text,y\nhi,1\n', 'b.jsonl': '{"text": "x", "label": "p"}\nnot json\n' });
  const build = (train: string, test: string) =>
    datasets.build({ type: 'text_table', train: join(dir, train), test: join(dir, test) }, context);
  for (const [train, pattern] of [
    ['a.csv', /a.csv: no column 'label'/],
    ['b.jsonl', /b.jsonl:2: not valid JSON/],
  ] as const) {
    try {
      await build(train, train);
      assert.unreachable();
    } catch (error) {
      assert.instance(error, UserError);
      assert.match((error as Error).message, pattern);
    }
  }
});

test('validation: an own table of validation examples, same classes as train; problems located at validation', async () => {
  const dir = writeTree(tempDir(), {
    'train.csv': 'text,label\ngood,pos\nbad,neg\n',
    'test.csv': 'text,label\nfine,pos\nno,neg\n',
    'val.csv': 'text,label\nmeh,neg\nnice,pos\nok,pos\n',
    'val-one-class.csv': 'text,label\nnice,pos\n',
    'val-header.csv': 'text,label\n',
  });
  const build = (validation: string) =>
    datasets.build(
      { type: 'text_table', train: join(dir, 'train.csv'), test: join(dir, 'test.csv'), validation: join(dir, validation) },
      context,
    ) as Promise<TextDataset>;
  const data = await build('val.csv');
  assert.equal(data.validation!.texts, ['meh', 'nice', 'ok']);
  assert.equal([...data.validation!.labels], [0, 1, 1]);
  assert.is(data.validationSource, `file ${join(dir, 'val.csv')}`);
  for (const [file, pattern] of [
    ['val-one-class.csv', /validation split's classes differ/],
    ['val-header.csv', /has no examples/],
    ['missing.csv', /does not exist/],
  ] as const) {
    await rejectsAtKey(() => build(file), ['validation'], pattern);
  }
});

test.run();

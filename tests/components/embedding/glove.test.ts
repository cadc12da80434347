import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import * as tf from '@tensorflow/tfjs';
import { embeddings } from '../../../components/embedding/index.ts';
import { forEachLine, loadGlove, type GloveOptions } from '../../../components/embedding/glove.ts';
import { UserError } from '../../../runner/errors.ts';
import { tempDir, writeTree } from '../../helpers/files.ts';

const vocab = ['<pad>', '<unk>', 'the', 'film', 'zzz', 'good'];
// Vectors in file order (not vocab order), a word outside the vocabulary, a repeated word (first wins).
const lines = ['film 0.1 0.2 0.3', 'other 9 9 9', 'the -1 0.5 2e-1', 'good 1 1 1', 'film 7 7 7'];
const text = lines.join('\n') + '\n';
const warn = () => {};
const base: GloveOptions = { path: '', freeze: true, oov_init: 'zeros' };

async function load(path: string, options: Partial<GloveOptions> = {}, expectedDim?: number) {
  const embedding = await loadGlove({ ...base, path, ...options }, { vocab, expectedDim, seed: 7, warn });
  const rows = embedding.matrix.arraySync() as number[][];
  embedding.matrix.dispose();
  return { ...embedding, rows };
}

function close(actual: number[][], expected: number[][]) {
  assert.is(actual.length, expected.length);
  actual.forEach((row, i) =>
    row.forEach((v, j) => assert.ok(Math.abs(v - expected[i]![j]!) < 1e-6, `row ${i} col ${j}: ${v} vs ${expected[i]![j]}`)),
  );
}

test('rows in vocabulary order, missing words zero (the lesson), oov count without the specials', async () => {
  const dir = writeTree(tempDir(), { 'v.txt': text });
  const e = await load(join(dir, 'v.txt'));
  close(e.rows, [
    [0, 0, 0],
    [0, 0, 0],
    [-1, 0.5, 0.2],
    [0.1, 0.2, 0.3],
    [0, 0, 0],
    [1, 1, 1],
  ]);
  assert.equal(
    { dim: e.dim, oov: e.oov, found: e.found, oovExamples: e.oovExamples, freeze: e.freeze },
    { dim: 3, oov: 1, found: 3, oovExamples: ['zzz'], freeze: true },
  );
});

test('word2vec header line, CRLF line ends, .gz files and file:// URLs read the same', async () => {
  const dir = writeTree(tempDir(), {
    'w2v.txt': `5 3\n${text}`,
    'crlf.txt': text.replace(/\n/g, '\r\n'),
    'v.txt.gz': gzipSync(Buffer.from(text)),
    'v.txt': text,
  });
  const reference = (await load(join(dir, 'v.txt'))).rows;
  for (const name of ['w2v.txt', 'crlf.txt', 'v.txt.gz']) close((await load(join(dir, name))).rows, reference);
  close((await load(`file://${join(dir, 'v.txt')}`)).rows, reference);
});

test("oov_init: normal draws missing rows (seeded, std given or the file's), keeps <pad> zero and found rows", async () => {
  const dir = writeTree(tempDir(), { 'v.txt': text });
  const a = await load(join(dir, 'v.txt'), { oov_init: 'normal', oov_std: 0.5 });
  const b = await load(join(dir, 'v.txt'), { oov_init: 'normal', oov_std: 0.5 });
  close(a.rows, b.rows);
  assert.equal(a.rows[0], [0, 0, 0], '<pad> stays zero');
  close(
    [a.rows[2]!, a.rows[3]!, a.rows[5]!],
    [
      [-1, 0.5, 0.2],
      [0.1, 0.2, 0.3],
      [1, 1, 1],
    ],
  );
  assert.ok(a.rows[4]!.some((v) => v !== 0) && a.rows[1]!.some((v) => v !== 0), 'oov rows and <unk> are drawn');
  const c = await load(join(dir, 'v.txt'), { oov_init: 'normal' });
  assert.ok(
    c.rows[4]!.every((v) => Math.abs(v) < 5),
    'default std is the file vectors',
  );
});

test('dimension checks and bad lines are UserErrors naming the file (and line)', async () => {
  const dir = writeTree(tempDir(), {
    'v.txt': text,
    'short.txt': 'the 1 2 3\nfilm 1 2\n',
    'nan.txt': 'the 1 x 3\n',
    'noword.txt': '\n0.1\n',
    'empty.txt': '',
    'latin1.txt': Buffer.from([0x74, 0x68, 0x65, 0x20, 0x31, 0x0a, 0x63, 0x61, 0x66, 0xe9, 0x20, 0x31, 0x0a]),
    'v.zip': 'PK',
  });
  const rejects = async (promise: Promise<unknown>, pattern: RegExp) => {
    try {
      await promise;
      assert.unreachable('resolved');
    } catch (error) {
      assert.instance(error, UserError, String(error));
      assert.match((error as Error).message, pattern);
    }
  };
  await rejects(load(join(dir, 'v.txt'), {}, 100), /v\.txt holds 3-dimensional vectors, but the model's embedding is 100-dimensional/);
  await rejects(load(join(dir, 'v.txt'), { dim: 4 }), /v\.txt holds 3-dimensional vectors, but dim is 4/);
  await rejects(load(join(dir, 'short.txt')), /short\.txt:2 has 2 numbers after the word, but the vectors are 3-dimensional/);
  await rejects(load(join(dir, 'nan.txt')), /nan\.txt:1: 'x' is not a number/);
  await rejects(load(join(dir, 'noword.txt')), /noword\.txt:2 is not a word vector line/);
  await rejects(load(join(dir, 'empty.txt')), /empty\.txt holds no vectors/);
  await rejects(load(join(dir, 'latin1.txt')), /latin1\.txt is not UTF-8/);
  await rejects(load(join(dir, 'missing.txt')), /missing\.txt does not exist/);
  await rejects(load(join(dir, 'v.zip')), /zip archive; unzip it/);
});

test('lines are streamed: any chunking (even inside a multi-byte character) gives the same lines', async () => {
  const bytes = Buffer.from('héllo 1 2\r\nwörld 3 4\n\nlast 5 6');
  const expected = ['héllo 1 2', 'wörld 3 4', '', 'last 5 6'];
  for (const size of [1, 2, 3, 5, 64]) {
    const chunks = [];
    for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
    const seen: string[] = [];
    await forEachLine(Readable.from(chunks), (line, n) => seen.push(`${n}:${line}`));
    assert.equal(
      seen,
      expected.map((l, i) => `${i + 1}:${l}`),
      `chunks of ${size}`,
    );
  }
});

test('an http URL is downloaded once into the cache (SHA-256 checked) and loaded', async () => {
  let hits = 0;
  const server = createServer((request, response) => {
    hits++;
    if (request.url !== '/glove.test.txt') return void response.writeHead(404).end();
    response.writeHead(200).end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/glove.test.txt`;
    const sha256 = createHash('sha256').update(text).digest('hex');
    const cache = tempDir();
    for (let i = 0; i < 2; i++) {
      const e = await load(url, { sha256, cache_dir: cache });
      close([e.rows[3]!], [[0.1, 0.2, 0.3]]);
      assert.is(e.source, url);
    }
    assert.is(hits, 1);
  } finally {
    server.close();
  }
});

test('registered as embedding glove; the matrix is a tensor the caller owns', async () => {
  const dir = writeTree(tempDir(), { 'v.txt': text });
  const before = tf.memory().numTensors;
  const e = await embeddings.build({ type: 'glove', path: join(dir, 'v.txt') }, { configDir: dir, warn, vocab, seed: 0 });
  assert.equal(e.matrix.shape, [6, 3]);
  assert.is(e.freeze, true, 'frozen by default (the lesson)');
  assert.is(tf.memory().numTensors, before + 1);
  e.matrix.dispose();
});

test.run();

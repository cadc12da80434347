import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { datasets } from '../../../components/dataset/index.ts';
import { loadImdb } from '../../../components/dataset/imdb.ts';
import { UserError } from '../../../runner/errors.ts';
import { tempDir, writeTree } from '../../helpers/files.ts';
import { makeTarGz, type TarMember } from './tar-writer.ts';

/** A tiny Stanford layout: 2 reviews per class and split, plus the members the reader must skip. */
const reviews: Record<string, string> = {
  'aclImdb/train/neg/10_2.txt': 'Bad.\nReally bad.',
  'aclImdb/train/neg/2_1.txt': 'Awful film',
  'aclImdb/train/pos/0_9.txt': 'A <br /><br />great film',
  'aclImdb/train/pos/1_10.txt': 'Loved it',
  'aclImdb/test/neg/0_3.txt': 'Boring',
  'aclImdb/test/neg/1_4.txt': 'Dull',
  'aclImdb/test/pos/0_8.txt': 'Fine',
  'aclImdb/test/pos/1_7.txt': 'Nice',
};
const extras: Record<string, string> = {
  'aclImdb/README': 'Large Movie Review Dataset',
  'aclImdb/train/unsup/0_0.txt': 'unlabelled',
  'aclImdb/train/labeledBow.feat': '0:1',
  'aclImdb/imdb.vocab': 'the',
};
const members: TarMember[] = Object.entries({ ...extras, ...reviews }).map(([name, data]) => ({ name, data }));
const archiveBytes = makeTarGz(members);
const sha256 = createHash('sha256').update(archiveBytes).digest('hex');
const warn = () => {};

const expected = {
  classes: ['neg', 'pos'],
  train: { texts: ['Bad.Really bad.', 'Awful film', 'A <br /><br />great film', 'Loved it'], labels: [0, 0, 1, 1] },
  test: { texts: ['Boring', 'Dull', 'Fine', 'Nice'], labels: [0, 0, 1, 1] },
};

function summary(d: Awaited<ReturnType<typeof loadImdb>>) {
  return {
    classes: d.classes,
    train: { texts: d.train.texts, labels: [...d.train.labels] },
    test: { texts: d.test.texts, labels: [...d.test.labels] },
  };
}

test('the .tar.gz is read in place: neg = 0, pos = 1, files in name order, newlines removed, extras skipped', async () => {
  const dir = writeTree(tempDir(), { 'aclImdb_v1.tar.gz': archiveBytes });
  const dataset = await loadImdb({ path: join(dir, 'aclImdb_v1.tar.gz'), download: false, url: 'https://unused' }, { warn });
  assert.equal(summary(dataset), expected);
  assert.equal(readdirSync(dir), ['aclImdb_v1.tar.gz'], 'nothing extracted');
});

test('the extracted folder (aclImdb itself or its parent) gives the same dataset', async () => {
  const dir = writeTree(tempDir(), { ...reviews, ...extras });
  for (const path of [dir, join(dir, 'aclImdb')]) {
    assert.equal(summary(await loadImdb({ path, download: false, url: 'https://unused' }, { warn })), expected, path);
  }
});

test('registered as dataset imdb, built from config params', async () => {
  const dir = writeTree(tempDir(), { 'a.tgz': archiveBytes });
  const dataset = await datasets.build({ type: 'imdb', path: join(dir, 'a.tgz') }, { configDir: dir, warn });
  assert.ok(dataset.kind === 'text' && dataset.train.texts.length === 4);
});

async function rejects(promise: Promise<unknown>, pattern: RegExp | string): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, UserError, `expected a UserError, got ${String(error)}`);
    assert.match((error as Error).message, pattern);
    return error as Error;
  }
  throw new assert.Assertion({ message: 'expected a rejection', operator: 'rejects', actual: 'resolved', expects: pattern });
}

test('bad input is a UserError naming the file: missing path, missing class, non-UTF-8 review, damaged archive', async () => {
  const noPos = Object.fromEntries(Object.entries(reviews).filter(([name]) => !name.includes('test/pos')));
  const dir = writeTree(tempDir(), {
    'nopos.tar.gz': makeTarGz(Object.entries(noPos).map(([name, data]) => ({ name, data }))),
    'latin1.tar.gz': makeTarGz([...members, { name: 'aclImdb/test/pos/9_9.txt', data: Uint8Array.from([0x63, 0x61, 0x66, 0xe9]) }]),
    'damaged.tar.gz': archiveBytes.subarray(0, archiveBytes.length - 40),
  });
  const load = (path?: string, extra: Record<string, unknown> = {}) =>
    loadImdb({ path, download: false, url: 'https://unused', ...extra }, { warn });
  await rejects(load(join(dir, 'missing.tar.gz')), `${join(dir, 'missing.tar.gz')} does not exist`);
  await rejects(load(join(dir, 'nopos.tar.gz')), /nopos\.tar\.gz has no reviews in test\/pos/);
  await rejects(load(join(dir, 'latin1.tar.gz')), /latin1\.tar\.gz:aclImdb\/test\/pos\/9_9\.txt is not valid UTF-8/);
  await rejects(load(join(dir, 'damaged.tar.gz')), /damaged\.tar\.gz could not be read/);
  await rejects(load(undefined), /needs path .* or download: true/);
  await rejects(load(join(dir, 'x.tar.gz'), { download: true }), /both path and download/);
});

/** A local HTTP server for the download tests: serves `files` by path and counts requests. */
async function serve(files: Record<string, Uint8Array>): Promise<{ url: string; hits: () => number; server: Server }> {
  let hits = 0;
  const server = createServer((request, response) => {
    hits++;
    const body = files[request.url ?? ''];
    if (!body) return void response.writeHead(404).end('not found');
    response.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits, server };
}

test('download: true fetches into the cache, verifies the SHA-256, and reuses the cached file', async () => {
  const { url, hits, server } = await serve({ '/data/aclImdb_v1.tar.gz': archiveBytes });
  try {
    const cache = tempDir();
    const params = { download: true, url: `${url}/data/aclImdb_v1.tar.gz`, sha256, cache_dir: cache };
    assert.equal(summary(await loadImdb(params, { warn })), expected);
    assert.equal(readdirSync(cache), ['aclImdb_v1.tar.gz']);
    assert.equal(summary(await loadImdb(params, { warn })), expected);
    assert.is(hits(), 1, 'the second load uses the cache');
  } finally {
    server.close();
  }
});

test('download: a wrong checksum or an HTTP error is a UserError and leaves nothing in the cache', async () => {
  const { url, server } = await serve({ '/a.tar.gz': archiveBytes });
  try {
    const cache = tempDir();
    const wrong = '0'.repeat(64);
    const error = await rejects(loadImdb({ download: true, url: `${url}/a.tar.gz`, sha256: wrong, cache_dir: cache }, { warn }), /SHA-256/);
    assert.match(error.message, sha256, 'names the actual digest');
    assert.equal(readdirSync(cache), []);
    await rejects(loadImdb({ download: true, url: `${url}/missing.tar.gz`, sha256, cache_dir: cache }, { warn }), /404/);
    assert.equal(readdirSync(cache), []);
  } finally {
    server.close();
  }
});

test('download without a checksum warns with the digest; a corrupted cached file is fetched again', async () => {
  const { url, hits, server } = await serve({ '/a.tar.gz': archiveBytes });
  try {
    const cache = tempDir();
    const warnings: string[] = [];
    await loadImdb({ download: true, url: `${url}/a.tar.gz`, cache_dir: cache }, { warn: (m) => warnings.push(m) });
    assert.is(warnings.length, 1);
    assert.match(warnings[0]!, sha256);
    writeTree(cache, { 'a.tar.gz': 'corrupted' });
    assert.equal(summary(await loadImdb({ download: true, url: `${url}/a.tar.gz`, sha256, cache_dir: cache }, { warn })), expected);
    assert.is(hits(), 2);
    assert.ok(existsSync(join(cache, 'a.tar.gz')));
  } finally {
    server.close();
  }
});

test.run();

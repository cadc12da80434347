import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readTarFile, TarFormatError, TarParser, type TarEntry } from '../../../components/dataset/tar.ts';
import { UserError } from '../../../runner/errors.ts';
import { tempDir, writeTree } from '../../helpers/files.ts';
import { makeTar, makeTarGz } from './tar-writer.ts';

const decode = (data: Uint8Array) => Buffer.from(data).toString('utf8');

/** Parses `bytes` fed in chunks of `size` bytes; returns name → text of every file. */
function parse(bytes: Uint8Array, size = bytes.length): Record<string, string> {
  const files: Record<string, string> = {};
  const parser = new TarParser((e: TarEntry) => (files[e.name] = decode(e.data)));
  for (let offset = 0; offset < bytes.length; offset += size) parser.push(bytes.subarray(offset, offset + size));
  parser.end();
  return files;
}

const longName = `aclImdb/train/pos/${'x'.repeat(120)}_9.txt`;
const longFolder = `aclImdb/${'d'.repeat(120)}/neg/3_1.txt`;
const members = [
  { name: 'aclImdb/', type: '5' },
  { name: 'aclImdb/README', data: 'read me' },
  { name: 'aclImdb/train/pos/0_9.txt', data: 'Great film ünïcödé' },
  { name: 'aclImdb/train/neg/1_2.txt', data: 'x'.repeat(1500) }, // spans several blocks
  { name: 'aclImdb/empty.txt', data: '' },
  { name: longName, data: 'long name' },
  { name: longFolder, data: 'long folder' },
];
const expected = {
  'aclImdb/README': 'read me',
  'aclImdb/train/pos/0_9.txt': 'Great film ünïcödé',
  'aclImdb/train/neg/1_2.txt': 'x'.repeat(1500),
  'aclImdb/empty.txt': '',
  [longName]: 'long name',
  [longFolder]: 'long folder',
};

for (const style of ['gnu', 'pax', 'prefix'] as const) {
  test(`files, contents and ${style} long names; directories skipped`, () => {
    assert.equal(parse(makeTar(members, style)), expected);
  });
}

test('any chunking gives the same files (1, 7, 511, 513 bytes)', () => {
  const tar = makeTar(members);
  for (const size of [1, 7, 511, 513]) assert.equal(parse(tar, size), expected, `chunks of ${size}`);
});

test('a damaged header is a TarFormatError; so are truncated archives and non-tar bytes', () => {
  const tar = makeTar(members);
  const damaged = Uint8Array.from(tar);
  damaged[5] = damaged[5]! ^ 0xff;
  assert.throws(
    () => parse(damaged),
    (e: unknown) => e instanceof TarFormatError && /checksum/.test((e as Error).message),
  );
  assert.throws(
    () => parse(tar.subarray(0, 512 * 3 + 100)),
    (e: unknown) => e instanceof TarFormatError && /truncated/.test((e as Error).message),
  );
  assert.throws(
    () => parse(new Uint8Array(1024)),
    (e: unknown) => e instanceof TarFormatError && /no files/.test((e as Error).message),
  );
  assert.throws(
    () => parse(Buffer.from('just some text, not an archive at all'.repeat(20))),
    (e: unknown) => e instanceof TarFormatError,
  );
});

test('readTarFile streams .tar and .tar.gz files; damaged or missing files are UserErrors naming them', async () => {
  const dir = writeTree(tempDir(), { 'a.tar': makeTar(members), 'a.tar.gz': makeTarGz(members), 'bad.tar.gz': Buffer.from('not gzip') });
  for (const name of ['a.tar', 'a.tar.gz']) {
    const files: Record<string, string> = {};
    await readTarFile(join(dir, name), (e) => (files[e.name] = decode(e.data)));
    assert.equal(files, expected, name);
  }
  for (const name of ['bad.tar.gz', 'missing.tar.gz']) {
    try {
      await readTarFile(join(dir, name), () => {});
      assert.unreachable();
    } catch (error) {
      assert.instance(error, UserError);
      assert.match((error as Error).message, join(dir, name));
    }
  }
});

test('archives made by GNU tar (gzip, long names, pax format) read the same', async () => {
  let hasTar = true;
  try {
    execFileSync('tar', ['--version'], { stdio: 'ignore' });
  } catch {
    hasTar = false;
  }
  if (!hasTar) return void console.warn('tar not installed; skipped');
  const dir = tempDir();
  const tree = { 'top/README': 'hello', 'top/train/pos/0_9.txt': 'good', [`top/train/neg/${'n'.repeat(130)}.txt`]: 'bad' };
  writeTree(join(dir, 'src'), tree);
  for (const format of ['gnu', 'pax', 'ustar']) {
    if (format === 'ustar') writeFileSync(join(dir, 'src', 'top/train/neg', `${'n'.repeat(130)}.txt`), 'bad'); // same tree
    const archive = join(dir, `${format}.tar.gz`);
    const names = format === 'ustar' ? ['top/README', 'top/train/pos/0_9.txt'] : ['top'];
    execFileSync('tar', ['-czf', archive, `--format=${format}`, '-C', join(dir, 'src'), ...names]);
    const files: Record<string, string> = {};
    await readTarFile(archive, (e) => (files[e.name] = decode(e.data)));
    const want = format === 'ustar' ? { 'top/README': 'hello', 'top/train/pos/0_9.txt': 'good' } : tree;
    assert.equal(files, want, format);
  }
});

test.run();

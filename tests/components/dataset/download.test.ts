import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { download, downloadStallSeconds } from '../../../components/dataset/download.ts';
import { downloadModel } from '../../../components/model/pretrained.ts';
import { UserError } from '../../../runner/errors.ts';
import { tempDir } from '../../helpers/files.ts';

const BODY = Buffer.alloc(5000, 7);
const MODEL_JSON = JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['w.bin'], weights: [] }] });

/** A local server whose routes answer as they like (some never finish); closed with every connection. */
async function serve(routes: Record<string, (res: ServerResponse, req: IncomingMessage) => void>) {
  const server = createServer((req, res) => (routes[req.url ?? ''] ?? ((r) => r.writeHead(404).end()))(res, req));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** Sends the first 1000 bytes of BODY (announcing all 5000), then nothing more. */
const stallAfter1000 = (res: ServerResponse) => {
  res.writeHead(200, { 'content-length': BODY.length });
  res.write(BODY.subarray(0, 1000));
};

/** Runs `body` with RUNNER_DOWNLOAD_STALL_S set. */
async function withStall<T>(seconds: string, body: () => Promise<T>): Promise<T> {
  const before = process.env.RUNNER_DOWNLOAD_STALL_S;
  process.env.RUNNER_DOWNLOAD_STALL_S = seconds;
  try {
    return await body();
  } finally {
    if (before === undefined) delete process.env.RUNNER_DOWNLOAD_STALL_S;
    else process.env.RUNNER_DOWNLOAD_STALL_S = before;
  }
}

async function rejection(promise: Promise<unknown>): Promise<UserError> {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, UserError, String(error));
    return error as UserError;
  }
  return assert.unreachable('expected a UserError') as never;
}

test('a download that stops sending is abandoned after the stall timeout, naming the URL and the bytes so far; nothing is kept', async () => {
  const server = await serve({ '/a.tar.gz': stallAfter1000, '/silent': () => {} });
  try {
    const cache = tempDir();
    const started = Date.now();
    const error = await withStall('0.3', () => rejection(download({ url: `${server.url}/a.tar.gz`, cacheDir: cache })));
    assert.ok(Date.now() - started < 3000, 'it gives up within the timeout');
    assert.match(error.message, `Downloading ${server.url}/a.tar.gz stalled: no data came for 0.3 s`);
    assert.match(error.message, '1000 bytes of 4.9 KB (5000 bytes) had arrived');
    assert.match(error.message, /Run it again to retry .* download the file by hand and give its local path/);
    assert.equal(readdirSync(cache), [], 'no partial file is left in the cache');

    const silent = await withStall('0.3', () => rejection(download({ url: `${server.url}/silent`, cacheDir: cache })));
    assert.match(silent.message, 'stalled: no data came for 0.3 s (nothing had arrived)');
    assert.equal(readdirSync(cache), []);
  } finally {
    server.close();
  }
});

test('a slow download that keeps sending is not a stall: the timeout counts from the last byte', async () => {
  const slow = (res: ServerResponse) => {
    res.writeHead(200, { 'content-length': BODY.length });
    let sent = 0;
    const timer = setInterval(() => {
      res.write(BODY.subarray(sent, sent + 1000));
      sent += 1000;
      if (sent >= BODY.length) {
        clearInterval(timer);
        res.end();
      }
    }, 150);
  };
  const server = await serve({ '/slow.bin': slow });
  try {
    const cache = tempDir();
    const path = await withStall('0.4', () => download({ url: `${server.url}/slow.bin`, cacheDir: cache }));
    assert.equal(readFileSync(path), BODY);
  } finally {
    server.close();
  }
});

test('a pretrained model URL whose weight file stalls leaves no model in the cache', async () => {
  const server = await serve({
    '/m/model.json': (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(MODEL_JSON),
    '/m/w.bin': stallAfter1000,
  });
  try {
    const cache = tempDir();
    const error = await withStall('0.3', () => rejection(downloadModel(`${server.url}/m/model.json`, cache)));
    assert.match(error.message, `Downloading ${server.url}/m/w.bin stalled`);
    assert.match(error.message, '1000 bytes');
    assert.ok(!existsSync(cache) || readdirSync(cache).length === 0, `nothing kept: ${existsSync(cache) && readdirSync(cache)}`);
  } finally {
    server.close();
  }
});

test('what downloads killed hard left behind (file or folder) is removed by the next download; a live process keeps its own', async () => {
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // a process that has ended
  const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
  const server = await serve({
    '/data.bin': (res) => res.writeHead(200).end(BODY),
    '/m/model.json': (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(MODEL_JSON),
    '/m/w.bin': (res) => res.writeHead(200).end(BODY),
  });
  try {
    const cache = tempDir();
    writeFileSync(join(cache, `data.bin.partial-${dead}`), 'half a file');
    writeFileSync(join(cache, `data.bin.partial-${live.pid}`), 'still coming');
    await download({ url: `${server.url}/data.bin`, cacheDir: cache });
    assert.equal(readdirSync(cache).sort(), ['data.bin', `data.bin.partial-${live.pid}`]);

    const url = `${server.url}/m/model.json`;
    const models = tempDir();
    const name = createHash('sha256').update(url).digest('hex').slice(0, 16); // downloadModel's folder for url
    mkdirSync(join(models, `${name}.partial-${dead}`));
    writeFileSync(join(models, `${name}.partial-${dead}`, 'model.json'), '{');
    assert.is(await downloadModel(url, models), join(models, name));
    assert.equal(readdirSync(models), [name]);
  } finally {
    live.kill();
    server.close();
  }
});

test('RUNNER_DOWNLOAD_STALL_S: default 60 s; a value that is not a positive number is a UserError', () => {
  assert.is(downloadStallSeconds({}), 60);
  assert.is(downloadStallSeconds({ RUNNER_DOWNLOAD_STALL_S: '2.5' }), 2.5);
  for (const bad of ['0', '-1', 'soon']) {
    assert.throws(
      () => downloadStallSeconds({ RUNNER_DOWNLOAD_STALL_S: bad }),
      (error: unknown) => error instanceof UserError && error.message.includes(`RUNNER_DOWNLOAD_STALL_S is '${bad}'`),
    );
  }
});

test.run();

import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../runner/errors.ts';
import { pidAlive } from '../../runner/common/owner.ts';

/** The folder downloads are cached in: `$RUNNER_CACHE_DIR`, else `$XDG_CACHE_HOME/runner`, else `~/.cache/runner`. */
export function defaultCacheDir(): string {
  if (process.env.RUNNER_CACHE_DIR) return process.env.RUNNER_CACHE_DIR;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'runner');
}

/** The SHA-256 of a file, hex, read in chunks. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** What `download` needs: where from, where to, and the expected digest (when known). */
export interface DownloadOptions {
  /** http(s):// or file:// URL. */
  url: string;
  /** Folder the file is kept in (created if missing). */
  cacheDir: string;
  /** Expected SHA-256 (hex); without it the file is not verified and a warning says so. */
  sha256?: string;
  /** File name in the cache (default: the URL's last path segment). */
  fileName?: string;
  /** Prints progress lines (downloading, verified). */
  log?(message: string): void;
  /** Prints warnings (no checksum to verify against). */
  warn?(message: string): void;
}

/**
 * Returns the path of `url`'s file in the cache, downloading it first when it is missing or does
 * not match `sha256`. The download goes to a temporary name, is hashed while it streams, and is
 * renamed into place only when the digest matches, so a broken download never sits in the cache.
 */
export async function download(options: DownloadOptions): Promise<string> {
  const { url, cacheDir } = options;
  const expected = options.sha256?.toLowerCase();
  const fileName = options.fileName ?? (basename(new URL(url).pathname) || 'download');
  const target = join(cacheDir, fileName);
  if (await exists(target)) {
    if (!expected) return target;
    if ((await sha256File(target)) === expected) return target;
    options.log?.(`${target} does not match its SHA-256; downloading it again`);
  }
  await mkdir(cacheDir, { recursive: true });
  await removeDeadPartials(target);
  const partial = partialPath(target);
  const hash = createHash('sha256');
  options.log?.(`downloading ${url} to ${target}`);
  try {
    const source = await openUrl(url);
    const hashing = async function* (chunks: AsyncIterable<Uint8Array>) {
      for await (const chunk of chunks) {
        hash.update(chunk);
        yield chunk;
      }
    };
    await pipeline(source, hashing, createWriteStream(partial));
  } catch (error) {
    await rm(partial, { force: true });
    throw downloadFailed(url, error);
  }
  const actual = hash.digest('hex');
  if (expected && actual !== expected) {
    await rm(partial, { force: true });
    throw new UserError(
      `The file downloaded from ${url} has SHA-256 ${actual}, but ${expected} was expected: the download is ` +
        `damaged or the URL now serves a different file. Nothing was kept in ${cacheDir}. Try again; if you trust ` +
        `the new file, set sha256: ${actual} in the config.`,
    );
  }
  await rename(partial, target);
  if (expected) options.log?.(`verified ${target} (SHA-256 ${actual})`);
  else options.warn?.(`${url} was downloaded to ${target} without a checksum to verify; its SHA-256 is ${actual} (set sha256: to pin it).`);
  return target;
}

/** Where this process downloads `target` before it is complete: `<target>.partial-<pid>`. */
export function partialPath(target: string): string {
  return `${target}.partial-${process.pid}`;
}

/**
 * Removes what downloads of `target` by processes that no longer run left behind (`<target>.partial-<pid>`, file
 * or folder: a download killed hard cannot clean up after itself). Partials of live processes are theirs.
 */
export async function removeDeadPartials(target: string): Promise<void> {
  const prefix = `${basename(target)}.partial-`;
  let names: string[];
  try {
    names = await readdir(dirname(target));
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(name.slice(prefix.length));
    if (!name.startsWith(prefix) || !Number.isInteger(pid) || pid <= 0 || pidAlive(pid)) continue;
    await rm(join(dirname(target), name), { recursive: true, force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Seconds without a byte before a download is abandoned: `$RUNNER_DOWNLOAD_STALL_S`, else 60. */
export function downloadStallSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.RUNNER_DOWNLOAD_STALL_S;
  if (text === undefined || text.trim() === '') return 60;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new UserError(
      `RUNNER_DOWNLOAD_STALL_S is '${text}', but it must be a number of seconds above 0 (e.g. 60); unset it for the default.`,
    );
  }
  return seconds;
}

/**
 * A byte stream of an http(s):// or file:// URL. HTTP errors, network errors and stalls (no byte for
 * `downloadStallSeconds()`, headers included) are UserErrors naming the URL.
 */
export async function openUrl(url: string): Promise<Readable> {
  if (/^file:\/\//i.test(url)) return createReadStream(fileURLToPath(url), { highWaterMark: 1 << 20 });
  const seconds = downloadStallSeconds();
  const controller = new AbortController();
  let received = 0;
  let total: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  const wait = () => {
    timer = setTimeout(() => controller.abort(stalled(url, seconds, received, total)), seconds * 1000);
  };
  const fail = (error: unknown): never => {
    throw controller.signal.aborted ? controller.signal.reason : downloadFailed(url, error);
  };
  wait();
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow', signal: controller.signal });
  } catch (error) {
    return fail(error);
  } finally {
    clearTimeout(timer);
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel().catch(() => {});
    throw new UserError(`Downloading ${url} failed: HTTP ${response.status} ${response.statusText}. Check the URL.`);
  }
  const length = Number(response.headers.get('content-length'));
  if (Number.isFinite(length) && length > 0) total = length;
  const chunks = (response.body as import('node:stream/web').ReadableStream<Uint8Array>)[Symbol.asyncIterator]();
  // Only the wait for the next chunk counts, not the time the consumer takes with the last one.
  const watched = async function* () {
    try {
      for (;;) {
        wait();
        const next = await chunks.next().catch(fail);
        clearTimeout(timer);
        if (next.done) return;
        received += next.value.byteLength;
        yield next.value;
      }
    } finally {
      clearTimeout(timer);
      await chunks.return?.().catch(() => {});
    }
  };
  return Readable.from(watched(), { objectMode: false });
}

function stalled(url: string, seconds: number, received: number, total: number | undefined): UserError {
  const got = received === 0 ? 'nothing had arrived' : `${formatBytes(received)}${total ? ` of ${formatBytes(total)}` : ''} had arrived`;
  return new UserError(
    `Downloading ${url} stalled: no data came for ${seconds} s (${got}), so it was abandoned and nothing partial was kept. ` +
      'Run it again to retry (RUNNER_DOWNLOAD_STALL_S sets how many seconds to wait), or download the file by hand ' +
      'and give its local path instead of the URL.',
  );
}

/** A failed download as a UserError naming the URL (a UserError is kept as it is). */
function downloadFailed(url: string, error: unknown): UserError {
  if (error instanceof UserError) return error;
  const cause = (error as { cause?: { message?: string; code?: string } }).cause;
  const detail = cause?.code ? ` (${cause.code})` : cause?.message ? ` (${cause.message})` : '';
  return new UserError(
    `Downloading ${url} failed: ${(error as Error).message}${detail}. Check the network (or the URL), ` +
      'or download the file yourself and give its local path instead of the URL.',
    { cause: error },
  );
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]} (${bytes} bytes)`;
}

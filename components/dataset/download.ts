import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../runner/errors.ts';

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
  const partial = `${target}.partial-${process.pid}`;
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
    if (error instanceof UserError) throw error;
    throw new UserError(
      `Downloading ${url} failed: ${(error as Error).message}. Check the network (or the URL), ` +
        `or download the file yourself and set the dataset's path to it.`,
      { cause: error },
    );
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

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** A byte stream of an http(s):// or file:// URL; HTTP errors are UserErrors naming the URL. */
export async function openUrl(url: string): Promise<Readable> {
  if (/^file:\/\//i.test(url)) return createReadStream(fileURLToPath(url), { highWaterMark: 1 << 20 });
  const response = await fetch(url, { redirect: 'follow' });
  if (!response.ok || !response.body) {
    throw new UserError(`Downloading ${url} failed: the server answered ${response.status} ${response.statusText}. Check the URL.`);
  }
  return Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
}

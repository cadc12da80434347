import { createReadStream } from 'node:fs';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { UserError } from '../../runner/errors.ts';

const BLOCK = 512;

/** One regular file of a tar archive: its path and its bytes (a view valid only during the callback). */
export interface TarEntry {
  /** Path inside the archive, '/'-separated, as stored (ustar prefix and GNU/pax long names applied). */
  name: string;
  /** The file's contents; copy it if it must outlive the callback. */
  data: Uint8Array;
}

/** Thrown for bytes that are not a tar archive (or a truncated one); callers turn it into a UserError. */
export class TarFormatError extends Error {
  override name = 'TarFormatError';
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

function cString(block: Uint8Array, start: number, length: number, decoder = utf8): string {
  let end = start;
  while (end < start + length && block[end] !== 0) end++;
  return decoder.decode(block.subarray(start, end));
}

function octal(block: Uint8Array, start: number, length: number): number {
  if (block[start]! & 0x80) {
    // GNU base-256 for sizes ≥ 8 GiB: big-endian, the top bit of the first byte is the flag.
    let value = block[start]! & 0x7f;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + block[i]!;
    return value;
  }
  const text = cString(block, start, length, latin1).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError(`bad octal number '${text}' in a tar header`);
  return parseInt(text, 8);
}

function checksumMatches(block: Uint8Array): boolean {
  let sum = 8 * 0x20; // the checksum field itself counts as spaces
  for (let i = 0; i < 148; i++) sum += block[i]!;
  for (let i = 156; i < BLOCK; i++) sum += block[i]!;
  return sum === octal(block, 148, 8);
}

function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/** The `path` record of a pax extended header, if any. */
function paxPath(data: Uint8Array): string | undefined {
  const text = utf8.decode(data);
  let offset = 0;
  let path: string | undefined;
  while (offset < text.length) {
    const space = text.indexOf(' ', offset);
    if (space < 0) break;
    const length = parseInt(text.slice(offset, space), 10);
    if (!(length > 0)) break;
    const record = text.slice(space + 1, offset + length - 1); // drop the trailing newline
    const eq = record.indexOf('=');
    if (record.slice(0, eq) === 'path') path = record.slice(eq + 1);
    offset += length;
  }
  return path;
}

/**
 * A push parser for (uncompressed) tar: feed chunks with `push`, call `end` at the end. Calls
 * `onEntry` synchronously for every regular file; directories, links and other members are
 * skipped. Understands ustar (prefix), GNU long names (`L`) and pax `path` records.
 */
export class TarParser {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private header: { name: string; size: number; type: number } | undefined;
  private longName: string | undefined;
  private finished = false;
  private entries = 0;

  constructor(private readonly onEntry: (entry: TarEntry) => void) {}

  /** Feeds the next bytes of the archive. */
  push(chunk: Uint8Array): void {
    if (this.finished || chunk.length === 0) return;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const buffer = this.pending.length === 1 ? this.pending[0]! : concat(this.pending, this.pendingBytes);
    let offset = 0;
    for (;;) {
      const available = buffer.length - offset;
      if (!this.header) {
        if (available < BLOCK) break;
        const block = buffer.subarray(offset, offset + BLOCK);
        offset += BLOCK;
        if (isZeroBlock(block)) {
          this.finished = true; // end-of-archive marker; anything after it is padding
          break;
        }
        if (!checksumMatches(block)) {
          throw new TarFormatError(`header ${this.entries + 1} has a wrong checksum: not a tar archive, or a damaged one`);
        }
        const magic = cString(block, 257, 6, latin1);
        let name = cString(block, 0, 100);
        if (magic === 'ustar') {
          const prefix = cString(block, 345, 155);
          if (prefix) name = `${prefix}/${name}`;
        }
        this.header = { name, size: octal(block, 124, 12), type: block[156]! };
        this.entries++;
        continue;
      }
      const { size, type } = this.header;
      const padded = Math.ceil(size / BLOCK) * BLOCK;
      if (available < padded) break;
      const data = buffer.subarray(offset, offset + size);
      offset += padded;
      const name = this.longName ?? this.header.name;
      this.header = undefined;
      if (type === 0x4c /* L: GNU long name of the next member */) {
        this.longName = cString(data, 0, data.length);
        continue;
      }
      if (type === 0x78 /* x: pax header of the next member */) {
        this.longName = paxPath(data) ?? this.longName;
        continue;
      }
      this.longName = undefined;
      if (type === 0x30 /* '0' */ || type === 0 || type === 0x37 /* '7' contiguous */) this.onEntry({ name, data });
    }
    const rest = buffer.subarray(offset);
    // Keep the unparsed tail as a copy so the caller's chunk (or our concatenation) can be dropped.
    this.pending = rest.length > 0 && !this.finished ? [rest.slice()] : [];
    this.pendingBytes = this.finished ? 0 : rest.length;
  }

  /** Checks that the archive ended cleanly (not in the middle of a member). */
  end(): void {
    if (this.header) throw new TarFormatError(`the archive ends inside '${this.header.name}': it is truncated`);
    if (!this.finished && this.pendingBytes > 0) throw new TarFormatError('the archive ends inside a header: it is truncated');
    if (this.entries === 0) throw new TarFormatError('it holds no files: not a tar archive');
  }
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** True when the file name says the archive is gzip-compressed. */
export function isGzipName(path: string): boolean {
  return /\.(tgz|gz)$/i.test(path);
}

/**
 * Streams the regular files of a `.tar`, `.tar.gz` or `.tgz` file to `onEntry`, in archive order,
 * without extracting anything: the file is read and gunzipped in chunks. A damaged archive is a
 * UserError naming the file.
 */
export async function readTarFile(path: string, onEntry: (entry: TarEntry) => void): Promise<void> {
  const parser = new TarParser(onEntry);
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  // pipeline (not pipe) so that a read error reaches the loop below through the gunzip stream
  const source: Readable = isGzipName(path) ? pipeline(file, createGunzip({ chunkSize: 1 << 20 }), () => {}) : file;
  try {
    for await (const chunk of source) parser.push(chunk as Buffer);
    parser.end();
  } catch (error) {
    file.destroy();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`The archive ${path} does not exist.`);
    if (code === 'EISDIR') throw new UserError(`The archive ${path} is a folder, not a file.`);
    if (error instanceof TarFormatError || (typeof code === 'string' && code.startsWith('Z_'))) {
      throw new UserError(
        `The archive ${path} could not be read: ${(error as Error).message}. ` +
          'Download it again (or point the config at the extracted folder).',
        { cause: error },
      );
    }
    throw error;
  }
}

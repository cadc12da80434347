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
  if (block[0] !== 0) return false; // a header starts with its name
  for (let i = 1; i < BLOCK; i++) if (block[i] !== 0) return false;
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
  /** Bytes of a unit (header or member data) that straddles chunks; most units are parsed in place. */
  private tail = new Uint8Array(BLOCK);
  private tailLength = 0;
  private header: { name: string; size: number; type: number } | undefined;
  private longName: string | undefined;
  private finished = false;
  private entries = 0;

  constructor(private readonly onEntry: (entry: TarEntry) => void) {}

  /** Bytes the next unit takes: a header block, or the current member's data padded to blocks. */
  private unitSize(): number {
    return this.header ? Math.ceil(this.header.size / BLOCK) * BLOCK : BLOCK;
  }

  /** Feeds the next bytes of the archive. */
  push(chunk: Uint8Array): void {
    let offset = 0;
    // First complete a unit begun in an earlier chunk (copying only what it lacks)...
    while (this.tailLength > 0 && offset < chunk.length && !this.finished) {
      const size = this.unitSize();
      const take = Math.min(size - this.tailLength, chunk.length - offset);
      if (this.tail.length < size) {
        const grown = new Uint8Array(Math.max(size, this.tail.length * 2));
        grown.set(this.tail.subarray(0, this.tailLength));
        this.tail = grown;
      }
      this.tail.set(chunk.subarray(offset, offset + take), this.tailLength);
      this.tailLength += take;
      offset += take;
      if (this.tailLength === size) {
        this.tailLength = 0;
        this.unit(this.tail.subarray(0, size));
      }
    }
    // ...then parse whole units straight from the chunk, and keep a copy of the incomplete rest.
    while (!this.finished) {
      const size = this.unitSize();
      if (chunk.length - offset < size) break;
      this.unit(chunk.subarray(offset, offset + size));
      offset += size;
    }
    if (!this.finished && offset < chunk.length) {
      const rest = chunk.length - offset;
      if (this.tail.length < rest) this.tail = new Uint8Array(Math.max(rest, this.unitSize()));
      this.tail.set(chunk.subarray(offset), 0);
      this.tailLength = rest;
    }
  }

  /** Parses one complete unit: a header block, or the padded data of the member it announced. */
  private unit(bytes: Uint8Array): void {
    if (!this.header) {
      if (isZeroBlock(bytes)) {
        this.finished = true; // end-of-archive marker; anything after it is padding
        return;
      }
      if (!checksumMatches(bytes)) {
        throw new TarFormatError(`header ${this.entries + 1} has a wrong checksum: not a tar archive, or a damaged one`);
      }
      const magic = cString(bytes, 257, 6, latin1);
      let name = cString(bytes, 0, 100);
      if (magic === 'ustar') {
        const prefix = cString(bytes, 345, 155);
        if (prefix) name = `${prefix}/${name}`;
      }
      this.header = { name, size: octal(bytes, 124, 12), type: bytes[156]! };
      this.entries++;
      if (this.header.size === 0) this.unit(bytes.subarray(0, 0)); // an empty member has no data blocks
      return;
    }
    const { size, type } = this.header;
    const data = bytes.subarray(0, size);
    const name = this.longName ?? this.header.name;
    this.header = undefined;
    if (type === 0x4c /* L: GNU long name of the next member */) {
      this.longName = cString(data, 0, data.length);
      return;
    }
    if (type === 0x78 /* x: pax header of the next member */) {
      this.longName = paxPath(data) ?? this.longName;
      return;
    }
    this.longName = undefined;
    if (type === 0x30 /* '0' */ || type === 0 || type === 0x37 /* '7' contiguous */) this.onEntry({ name, data });
  }

  /** Checks that the archive ended cleanly (not in the middle of a member). */
  end(): void {
    if (this.header) throw new TarFormatError(`the archive ends inside '${this.header.name}': it is truncated`);
    if (!this.finished && this.tailLength > 0) throw new TarFormatError('the archive ends inside a header: it is truncated');
    if (this.entries === 0) throw new TarFormatError('it holds no files: not a tar archive');
  }
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

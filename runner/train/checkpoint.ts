import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CHECKPOINTS_DIR } from './checkpoint-dir.ts';

const MANIFEST = 'checkpoint.json';
const TENSORS = 'tensors.bin';
const FORMAT = 'runner-checkpoint';

/** One tensor of a checkpoint: which part it belongs to (model weights, optimizer slots), a name for messages, and the value. */
export interface NamedTensor {
  group: string;
  name: string;
  tensor: tf.Tensor;
}

/** What a checkpoint records of each tensor besides its values. */
interface TensorMeta {
  group: string;
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
}

/** A tensor read back from a checkpoint (values copied out of the file). */
export interface StoredTensor extends TensorMeta {
  values: Float32Array | Int32Array;
}

/** A tensor's entry in checkpoint.json: where its bytes lie in tensors.bin. */
interface TensorEntry extends TensorMeta {
  offset: number;
  bytes: number;
}

interface Manifest {
  format: typeof FORMAT;
  version: 1;
  written_at: string;
  tensors: TensorEntry[];
  data_bytes: number;
  data_sha256: string;
  state: unknown;
}

/** A checkpoint that cannot be read (missing, truncated, corrupt): names the file. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`checkpoint ${file} ${reason}`);
  }
}

/** A checkpoint as read: its JSON state and its tensors. */
export interface LoadedCheckpoint<State> {
  /** Folder it was read from (`checkpoints/last`, or `checkpoints/last.previous` after a fallback). */
  dir: string;
  state: State;
  tensors: StoredTensor[];
}

/**
 * The checkpoints of one run folder: `checkpoints/<name>/` (`last`, `best`) each holding `checkpoint.json`
 * (state and tensor manifest with a SHA-256 of the data) and `tensors.bin`. A write goes to a
 * `<name>.partial-<pid>` folder first and is renamed into place only when complete; the one it replaces is
 * kept as `<name>.previous`, so an interrupted or corrupt write never leaves a run without a good checkpoint.
 */
export class CheckpointStore {
  readonly dir: string;

  constructor(runDir: string) {
    this.dir = join(runDir, CHECKPOINTS_DIR);
  }

  /** Writes checkpoint `name` atomically (temporary folder, fsync, rename). */
  async save(name: string, tensors: NamedTensor[], state: unknown): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    const partial = join(this.dir, `${name}.partial-${process.pid}`);
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial);
    const hash = createHash('sha256');
    const entries: TensorEntry[] = [];
    const fd = openSync(join(partial, TENSORS), 'w');
    let offset = 0;
    try {
      for (const { group, name: tensorName, tensor } of tensors) {
        if (tensor.dtype !== 'float32' && tensor.dtype !== 'int32')
          throw new Error(`cannot checkpoint ${tensorName}: dtype ${tensor.dtype}`);
        const values = (await tensor.data()) as Float32Array | Int32Array;
        const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
        writeAll(fd, bytes);
        hash.update(bytes);
        entries.push({ group, name: tensorName, shape: tensor.shape, dtype: tensor.dtype, offset, bytes: bytes.byteLength });
        offset += bytes.byteLength;
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    const manifest: Manifest = {
      format: FORMAT,
      version: 1,
      written_at: new Date().toISOString(),
      tensors: entries,
      data_bytes: offset,
      data_sha256: hash.digest('hex'),
      state,
    };
    writeDurably(join(partial, MANIFEST), JSON.stringify(manifest, null, 1) + '\n');
    this.#swapIn(partial, name);
  }

  /** Makes checkpoint `to` a copy of `from` (hard links: no data is copied), atomically as save does. */
  copy(from: string, to: string): void {
    const source = join(this.dir, from);
    const partial = join(this.dir, `${to}.partial-${process.pid}`);
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial, { recursive: true });
    for (const file of [TENSORS, MANIFEST]) linkSync(join(source, file), join(partial, file));
    this.#swapIn(partial, to);
  }

  /** True when checkpoint `name` (or its previous version) exists. */
  has(name: string): boolean {
    return existsSync(join(this.dir, name, MANIFEST)) || existsSync(join(this.dir, `${name}.previous`, MANIFEST));
  }

  /**
   * Reads checkpoint `name`, checking size and digest. When it is missing or damaged and `<name>.previous` is
   * good, that one is returned and `warn` says why; when neither is, throws the first CheckpointError.
   */
  load<State>(name: string, warn: (message: string) => void): LoadedCheckpoint<State> {
    try {
      return readCheckpoint<State>(join(this.dir, name));
    } catch (error) {
      if (!(error instanceof CheckpointError)) throw error;
      const previous = join(this.dir, `${name}.previous`);
      if (!existsSync(previous)) throw error;
      const loaded = readCheckpoint<State>(previous);
      warn(`${error.message}; using the previous checkpoint ${previous} instead`);
      return loaded;
    }
  }

  /** Removes temporary folders left by processes that died while writing. */
  removePartials(): void {
    if (!existsSync(this.dir)) return;
    for (const entry of readdirSync(this.dir)) {
      if (entry.includes('.partial-')) rmSync(join(this.dir, entry), { recursive: true, force: true });
    }
  }

  #swapIn(partial: string, name: string): void {
    const target = join(this.dir, name);
    const previous = join(this.dir, `${name}.previous`);
    if (existsSync(target)) {
      rmSync(previous, { recursive: true, force: true });
      renameSync(target, previous);
    }
    renameSync(partial, target);
    fsyncDir(this.dir);
  }
}

/** Reads and verifies one checkpoint folder. */
export function readCheckpoint<State>(dir: string): LoadedCheckpoint<State> {
  const manifestFile = join(dir, MANIFEST);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CheckpointError(manifestFile, code === 'ENOENT' ? 'does not exist' : `is unreadable (${(error as Error).message})`);
  }
  if (manifest.format !== FORMAT || manifest.version !== 1 || !Array.isArray(manifest.tensors)) {
    throw new CheckpointError(manifestFile, 'is not a runner checkpoint (unknown format or version)');
  }
  const dataFile = join(dir, TENSORS);
  let data: Buffer;
  try {
    data = readFileSync(dataFile);
  } catch {
    throw new CheckpointError(dataFile, 'does not exist or cannot be read');
  }
  if (data.byteLength !== manifest.data_bytes) {
    throw new CheckpointError(dataFile, `is truncated or damaged: ${data.byteLength} bytes, expected ${manifest.data_bytes}`);
  }
  if (createHash('sha256').update(data).digest('hex') !== manifest.data_sha256) {
    throw new CheckpointError(dataFile, 'is damaged: its SHA-256 does not match checkpoint.json');
  }
  const tensors = manifest.tensors.map((entry) => {
    const copy = data.buffer.slice(data.byteOffset + entry.offset, data.byteOffset + entry.offset + entry.bytes);
    const values = entry.dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy);
    return { group: entry.group, name: entry.name, shape: entry.shape, dtype: entry.dtype, values };
  });
  return { dir, state: manifest.state as State, tensors };
}

/** The tensors of one group, in order. */
export function tensorsOf(checkpoint: LoadedCheckpoint<unknown>, group: string): StoredTensor[] {
  return checkpoint.tensors.filter((t) => t.group === group);
}

/** Assigns stored values to variables in order, checking count and shapes (message says what does not fit). */
export function assignStored(variables: tf.Variable[], stored: StoredTensor[], what: string, file: string): void {
  if (variables.length !== stored.length) {
    throw new CheckpointError(
      file,
      `holds ${stored.length} ${what} tensors, the model has ${variables.length}: it belongs to another model`,
    );
  }
  variables.forEach((variable, i) => {
    const value = stored[i]!;
    if (value.shape.join(',') !== variable.shape.join(',')) {
      throw new CheckpointError(file, `has ${what} '${value.name}' of shape [${value.shape}], the model's is [${variable.shape}]`);
    }
  });
  variables.forEach((variable, i) => {
    const value = stored[i]!;
    tf.tidy(() => variable.assign(tf.tensor(value.values, value.shape, variable.dtype === 'int32' ? 'int32' : 'float32')));
  });
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.byteLength) written += writeSync(fd, bytes, written, bytes.byteLength - written);
}

function writeDurably(file: string, text: string): void {
  const fd = openSync(file, 'w');
  try {
    writeAll(fd, Buffer.from(text));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Not every filesystem lets a folder be fsynced; the renames are atomic regardless.
  }
}

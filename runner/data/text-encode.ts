import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Tokenizer } from '../../components/tokenizer/tokenizer.ts';
import type { TextDataset } from './types.ts';
import { Vocab } from './vocab.ts';

/** The token ids of one part of the data under the part's own provisional vocabulary. */
export interface IndexedPart {
  /** Distinct tokens of the part, by provisional id. */
  tokens: string[];
  /** Occurrences of each provisional id in the part's training texts (test texts do not count). */
  counts: Int32Array;
  /** `[trainTexts, maxLen]` provisional id + 1 of the first `maxLen` tokens (0 = padding). */
  trainIds: Int32Array;
  /** The same for the test texts. */
  testIds: Int32Array;
}

/**
 * Tokenizes texts once, giving every distinct token a provisional id and counting training
 * occurrences; keeps only the first `maxLen` ids of each text. No token arrays outlive their text.
 */
export function indexTexts(tokenizer: Tokenizer, trainTexts: readonly string[], testTexts: readonly string[], maxLen: number): IndexedPart {
  const provisional = new Map<string, number>();
  const tokens: string[] = [];
  let counts = new Int32Array(1 << 16);
  const idOf = (token: string) => {
    let id = provisional.get(token);
    if (id === undefined) {
      id = tokens.length;
      provisional.set(token, id);
      tokens.push(token);
      if (id === counts.length) {
        const grown = new Int32Array(counts.length * 2);
        grown.set(counts);
        counts = grown;
      }
    }
    return id;
  };
  const trainIds = new Int32Array(trainTexts.length * maxLen);
  for (let row = 0; row < trainTexts.length; row++) {
    const textTokens = tokenizer.tokenize(trainTexts[row]!);
    const offset = row * maxLen;
    for (let i = 0; i < textTokens.length; i++) {
      const id = idOf(textTokens[i]!);
      counts[id]!++;
      if (i < maxLen) trainIds[offset + i] = id + 1;
    }
  }
  const testIds = new Int32Array(testTexts.length * maxLen);
  for (let row = 0; row < testTexts.length; row++) {
    const textTokens = tokenizer.tokenize(testTexts[row]!);
    const offset = row * maxLen;
    const length = Math.min(textTokens.length, maxLen);
    for (let i = 0; i < length; i++) testIds[offset + i] = idOf(textTokens[i]!) + 1;
  }
  return { tokens, counts: counts.subarray(0, tokens.length), trainIds, testIds };
}

/** Vocabulary from the parts' training counts, and every part's ids mapped to vocabulary ids (written into `train`/`test`). */
export function mergeParts(
  parts: IndexedPart[],
  options: { minFreq: number; maxSize?: number },
  train: Int32Array,
  test: Int32Array,
): Vocab {
  const total = new Map<string, number>();
  for (const part of parts) part.tokens.forEach((token, id) => total.set(token, (total.get(token) ?? 0) + part.counts[id]!));
  const vocab = Vocab.fromCounts(total, options);
  let [trainOffset, testOffset] = [0, 0];
  for (const part of parts) {
    const remap = new Int32Array(part.tokens.length + 1); // remap[0] = PAD_ID
    part.tokens.forEach((token, id) => (remap[id + 1] = vocab.id(token)));
    // A lookup through the remap table. tf.gather on the backend (12.5 M indices for IMDb) plus the
    // copies in and out took ~4 s of CPU against ~50 ms for this loop, so it stays in JS.
    for (let i = 0; i < part.trainIds.length; i++) train[trainOffset + i] = remap[part.trainIds[i]!]!;
    for (let i = 0; i < part.testIds.length; i++) test[testOffset + i] = remap[part.testIds[i]!]!;
    trainOffset += part.trainIds.length;
    testOffset += part.testIds.length;
  }
  return vocab;
}

/** A tokenizer's config (`data.tokenizer`), from which a worker thread builds the same tokenizer. */
export type TokenizerConfig = { type: string } & Record<string, unknown>;

// The worker: registers tsx (workers do not inherit the main thread's loader hooks), builds the
// tokenizer from its config, indexes its share and sends the typed arrays back without copying.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { register } = await import('tsx/esm/api');
  register();
  const { tokenizers } = await import(workerData.tokenizersModule);
  const { indexTexts } = await import(workerData.selfModule);
  parentPort.postMessage('ready');
  parentPort.once('message', ({ train, test, maxLen }) => {
    const tokenizer = tokenizers.build(workerData.tokenizer, { configDir: '.', warn() {} });
    const part = indexTexts(tokenizer, train, test, maxLen);
    parentPort.postMessage(part, [part.counts.buffer, part.trainIds.buffer, part.testIds.buffer]);
  });
})().catch((error) => { throw error; });
`;

/** A worker thread failed (could not start, or crashed); the caller falls back to one thread. */
export class WorkerFailed extends Error {
  override name = 'WorkerFailed';
}

/** A worker that indexes a share of the texts. */
export class IndexWorker {
  private readonly worker: Worker;
  private readonly ready: Promise<void>;

  constructor(tokenizer: TokenizerConfig) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      stdout: false,
      workerData: {
        tokenizer,
        tokenizersModule: new URL('../../components/tokenizer/index.ts', import.meta.url).href,
        selfModule: import.meta.url,
      },
    });
    this.ready = new Promise((resolve, reject) => {
      this.worker.once('message', () => resolve());
      this.worker.once('error', (error) => reject(new WorkerFailed(`encoding worker failed: ${error.message}`, { cause: error })));
    });
    this.ready.catch(() => {}); // reported by index()
    this.worker.unref();
  }

  /** Indexes the texts in the worker; resolves with its part. */
  async index(train: readonly string[], test: readonly string[], maxLen: number): Promise<IndexedPart> {
    this.worker.ref(); // while a job is out, the process waits for it
    await this.ready;
    return new Promise((resolve, reject) => {
      this.worker.once('message', resolve);
      this.worker.once('error', (error) => reject(new WorkerFailed(`encoding worker failed: ${error.message}`, { cause: error })));
      this.worker.postMessage({ train, test, maxLen });
    });
  }

  /** Stops the worker. */
  close(): void {
    void this.worker.terminate();
  }
}

/**
 * Worker threads for text encoding. Created before the dataset is read (when the config names a
 * tokenizer, i.e. text data), so that their start-up (~0.3 s: loader, modules) overlaps the read.
 * Unreferenced: an unused pool never keeps the process alive.
 */
export class EncodePool {
  readonly workers: IndexWorker[];

  constructor(tokenizer: TokenizerConfig | undefined, count = encodeWorkerCount()) {
    this.workers = tokenizer ? Array.from({ length: count }, () => new IndexWorker(tokenizer)) : [];
  }

  /** Stops the workers. */
  close(): void {
    for (const worker of this.workers) worker.close();
  }
}

/** How many helper threads text encoding uses: one fewer than the CPUs, at most 3 (`RUNNER_ENCODE_WORKERS` overrides). */
export function encodeWorkerCount(): number {
  const fromEnv = process.env.RUNNER_ENCODE_WORKERS;
  if (fromEnv !== undefined && /^\d+$/.test(fromEnv)) return Number(fromEnv);
  return Math.max(0, Math.min(3, availableParallelism() - 1));
}

/**
 * Tokenizes, counts and encodes both splits, sharing the texts between this thread and `workers`
 * (started beforehand with the same tokenizer's config). The result does not depend on how the
 * texts were shared: the vocabulary comes from the summed training counts.
 */
export async function encodeInParallel(
  dataset: TextDataset,
  tokenizer: Tokenizer,
  workers: IndexWorker[],
  options: { minFreq: number; maxSize?: number; maxLen: number },
): Promise<{ vocab: Vocab; train: Int32Array; test: Int32Array }> {
  const { maxLen } = options;
  const shares = workers.length + 1;
  // This thread takes a slightly larger share: the workers may still be starting.
  const cut = (n: number, k: number) => Math.round((n * k * 0.9) / shares);
  const slices = (texts: readonly string[]) => workers.map((_, w) => texts.slice(cut(texts.length, w), cut(texts.length, w + 1)));
  const trainSlices = slices(dataset.train.texts);
  const testSlices = slices(dataset.test.texts);
  const pending = workers.map((worker, w) => worker.index(trainSlices[w]!, testSlices[w]!, maxLen));
  const start = (n: number) => cut(n, workers.length);
  const own = indexTexts(
    tokenizer,
    dataset.train.texts.slice(start(dataset.train.texts.length)),
    dataset.test.texts.slice(start(dataset.test.texts.length)),
    maxLen,
  );
  const parts = [...(await Promise.all(pending)), own];
  const train = new Int32Array(dataset.train.texts.length * maxLen);
  const test = new Int32Array(dataset.test.texts.length * maxLen);
  return { vocab: mergeParts(parts, options, train, test), train, test };
}

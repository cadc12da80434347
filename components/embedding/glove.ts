import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { Type } from '@sinclair/typebox';
import { FilePath, isUrl, pathIssues } from '../../runner/config/path.ts';
import { UserError } from '../../runner/errors.ts';
import { defineComponent, type CheckIssue } from '../../runner/registry.ts';
import { SPECIAL_TOKENS, PAD_ID } from '../../runner/data/vocab.ts';
import { defaultCacheDir, download } from '../dataset/download.ts';
import type { EmbeddingContext, PretrainedEmbedding } from './embedding.ts';

/**
 * Calls `onLine` for every line of a UTF-8 byte stream (without the line break), reading it chunk
 * by chunk: only the current chunk and one partial line are ever in memory.
 */
export async function forEachLine(stream: AsyncIterable<Uint8Array>, onLine: (line: string, lineNumber: number) => void): Promise<void> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let rest = '';
  let lineNumber = 0;
  const emit = (text: string, final: boolean) => {
    let start = 0;
    for (let newline = text.indexOf('\n'); newline >= 0; newline = text.indexOf('\n', start)) {
      const end = newline > start && text.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
      onLine(text.slice(start, end), ++lineNumber);
      start = newline + 1;
    }
    rest = text.slice(start);
    if (final && rest !== '') onLine(rest.endsWith('\r') ? rest.slice(0, -1) : rest, ++lineNumber);
  };
  for await (const chunk of stream) emit(rest + decoder.decode(chunk, { stream: true }), false);
  emit(rest + decoder.decode(), true);
}

/** What the glove builder reads from its params. */
export interface GloveOptions {
  path: string;
  sha256?: string;
  cache_dir?: string;
  dim?: number;
  freeze: boolean;
  oov_init: 'zeros' | 'normal';
  oov_std?: number;
}

function openVectors(path: string): Readable {
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  return /\.gz$/i.test(path) ? pipeline(file, createGunzip({ chunkSize: 1 << 20 }), () => {}) : file;
}

/**
 * Loads GloVe / word2vec text vectors (`word v1 v2 ...` per line; an optional `count dim` header
 * line) into a `[vocab, dim]` matrix in vocabulary order. Only the lines of vocabulary words are
 * parsed; the file is streamed. Words the file lacks get zero rows, or normal ones (`oov_init`).
 */
export async function loadGlove(
  options: GloveOptions,
  context: Pick<EmbeddingContext, 'vocab' | 'expectedDim' | 'seed' | 'warn'>,
): Promise<PretrainedEmbedding> {
  let path = options.path;
  if (/\.zip$/i.test(path)) {
    throw new UserError(
      `The embedding file ${path} is a zip archive; unzip it and point path at the .txt file inside (e.g. glove.6B.100d.txt).`,
    );
  }
  if (isUrl(path) && !/^file:/i.test(path)) {
    path = await download({
      url: path,
      sha256: options.sha256,
      cacheDir: options.cache_dir ?? join(defaultCacheDir(), 'embeddings'),
      log: (m) => process.stderr.write(`${m}\n`),
      warn: context.warn,
    });
  } else if (/^file:/i.test(path)) {
    path = fileURLToPath(path);
  }
  const vocabSize = context.vocab.length;
  const index = new Map<string, number>();
  context.vocab.forEach((token, id) => index.set(token, id));
  let dim: number | undefined; // the file's width: from its header or its first vector
  const expected = options.dim ?? context.expectedDim;
  let matrix: Float32Array | undefined;
  const found = new Uint8Array(vocabSize);
  let foundCount = 0;
  let vectors = 0;
  const where = (line: number) => `${options.path}:${line}`;

  const onLine = (line: string, lineNumber: number) => {
    if (line === '') return;
    const space = line.indexOf(' ');
    if (space <= 0) {
      throw new UserError(
        `${where(lineNumber)} is not a word vector line ('word v1 v2 ...'): the file is not in GloVe/word2vec text format.`,
      );
    }
    if (lineNumber === 1 && /^\d+ \d+\s*$/.test(line)) {
      // word2vec/fastText header: "<count> <dim>"
      dim ??= Number(line.slice(space + 1));
      return;
    }
    vectors++;
    const id = index.get(line.slice(0, space));
    if (dim === undefined)
      dim = line
        .slice(space + 1)
        .trim()
        .split(' ').length;
    if (!matrix) {
      if (expected !== undefined && dim !== expected) {
        const wanted = options.dim !== undefined ? `dim is ${expected}` : `the model's embedding is ${expected}-dimensional`;
        throw new UserError(
          `${options.path} holds ${dim}-dimensional vectors, but ${wanted}. ` +
            `Set the model's embed_size (and dim) to ${dim}, or use a ${expected}-d file (e.g. glove.6B.${expected}d.txt).`,
        );
      }
      matrix = new Float32Array(vocabSize * dim);
    }
    if (id === undefined || found[id]) return; // not in the vocabulary, or a repeated word: first one wins
    const fields = line
      .slice(space + 1)
      .trim()
      .split(' ');
    if (fields.length !== dim) {
      throw new UserError(`${where(lineNumber)} has ${fields.length} numbers after the word, but the vectors are ${dim}-dimensional.`);
    }
    const offset = id * dim;
    for (let j = 0; j < dim; j++) {
      const value = Number(fields[j]);
      if (!Number.isFinite(value)) throw new UserError(`${where(lineNumber)}: '${fields[j]}' is not a number.`);
      matrix[offset + j] = value;
    }
    found[id] = 1;
    foundCount++;
  };

  try {
    await forEachLine(openVectors(path), onLine);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new UserError(`The embedding file ${options.path} does not exist. Download it (e.g. glove.6B.100d.txt) and set path.`);
    if (code === 'EISDIR') throw new UserError(`The embedding path ${options.path} is a folder; point it at the vectors' .txt file.`);
    if (error instanceof TypeError && /encoded data/i.test(error.message))
      throw new UserError(`The embedding file ${options.path} is not UTF-8 text.`);
    if (typeof code === 'string' && code.startsWith('Z_'))
      throw new UserError(`The embedding file ${options.path} is not a valid gzip file.`);
    throw error;
  }
  if (!matrix || dim === undefined || vectors === 0) throw new UserError(`The embedding file ${options.path} holds no vectors.`);

  const specials = new Set<string>(SPECIAL_TOKENS);
  const oovWords = context.vocab.filter((token, id) => !found[id] && !specials.has(token));
  const finalDim = dim;
  const loaded = matrix;
  const result = tf.tidy(() => {
    const rows = tf.tensor2d(loaded, [vocabSize, finalDim]);
    if (options.oov_init === 'zeros' || foundCount === vocabSize) return rows;
    const keep = found.slice();
    keep[PAD_ID] = 1; // padding stays a zero row
    const mask = tf.tensor2d(keep, [vocabSize, 1], 'bool');
    let std = options.oov_std;
    if (std === undefined) {
      const foundRows = tf.gather(
        rows,
        tf.tensor1d(
          Int32Array.from(found.keys()).filter((i) => found[i]),
          'int32',
        ),
      );
      std = foundCount > 0 ? Math.sqrt(tf.moments(foundRows).variance.dataSync()[0]!) || 1 : 1;
    }
    const noise = tf.randomNormal([vocabSize, finalDim], 0, std, 'float32', context.seed);
    return tf.where(mask, rows, noise);
  });
  return {
    matrix: result as tf.Tensor2D,
    dim: finalDim,
    oov: oovWords.length,
    oovExamples: oovWords.slice(0, 10),
    found: foundCount,
    freeze: options.freeze,
    source: options.path,
  };
}

/** Pretrained word vectors in GloVe / word2vec text format, from a path or URL, in vocabulary order. */
export const glove = defineComponent({
  name: 'glove',
  summary: 'Pretrained word vectors (GloVe / word2vec text format) from a path or URL, in vocabulary order.',
  params: Type.Object(
    {
      path: FilePath({
        description:
          'The vectors: a .txt (or .txt.gz) file with one "word v1 v2 ..." line per word (e.g. glove.6B.100d.txt), or an http(s) URL (downloaded once into cache_dir).',
      }),
      sha256: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{64}$', description: 'Expected SHA-256 of a downloaded file.' })),
      cache_dir: Type.Optional(
        FilePath({ description: 'Folder for downloads (default: $RUNNER_CACHE_DIR, else ~/.cache/runner, + /embeddings).' }),
      ),
      dim: Type.Optional(
        Type.Integer({
          minimum: 1,
          description: "Expected vector width (default: the model's embed_size); a file of another width is an error.",
        }),
      ),
      freeze: Type.Boolean({
        default: true,
        description:
          "Keep the pretrained rows fixed (the lesson's BiRNN). TextCNN's constant_embedding is always frozen; freeze: false lets its other embedding train, as in the lesson.",
      }),
      oov_init: Type.Union([Type.Literal('zeros'), Type.Literal('normal')], {
        default: 'zeros',
        description: 'Rows of vocabulary words missing from the file: zeros (the lesson) or drawn from a normal distribution.',
      }),
      oov_std: Type.Optional(
        Type.Number({
          exclusiveMinimum: 0,
          description: "Standard deviation for oov_init: normal (default: that of the file's vectors in the vocabulary).",
        }),
      ),
    },
    { additionalProperties: false },
  ),
  check(params): CheckIssue[] {
    return pathIssues(params.path, ['path'], 'The word vectors file', 'file');
  },
  build(params, context: EmbeddingContext): Promise<PretrainedEmbedding> {
    return loadGlove(params, context);
  },
});

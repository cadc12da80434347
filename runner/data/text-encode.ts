import type { Tokenizer } from '../../components/tokenizer/tokenizer.ts';
import { PAD_ID, SPECIAL_TOKENS, UNK_ID, Vocab } from './vocab.ts';

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

/**
 * The vocabulary from an indexed part's training counts, and its ids mapped to vocabulary ids in
 * place (`trainIds`, `testIds` become the encoded splits).
 */
export function finishEncoding(part: IndexedPart, options: { minFreq: number; maxSize?: number }): Vocab {
  const { tokens, counts } = part;
  const candidates = function* () {
    for (let id = 0; id < tokens.length; id++) if (counts[id]! >= options.minFreq) yield [tokens[id]!, counts[id]!] as const;
  };
  const vocab = Vocab.fromCounts(candidates(), options);
  // Only frequent tokens (or a special spelled out in the text) can have an id other than <unk>.
  const specials = new Set<string>(SPECIAL_TOKENS);
  const remap = new Int32Array(tokens.length + 1).fill(UNK_ID);
  remap[0] = PAD_ID;
  for (let id = 0; id < tokens.length; id++) {
    if (counts[id]! >= options.minFreq || specials.has(tokens[id]!)) remap[id + 1] = vocab.id(tokens[id]!);
  }
  // A lookup through the remap table, in place. tf.gather on the backend (12.5 M indices for IMDb)
  // plus the copies in and out took ~4 s of CPU against ~50 ms for these loops, so they stay in JS.
  const { trainIds, testIds } = part;
  for (let i = 0; i < trainIds.length; i++) trainIds[i] = remap[trainIds[i]!]!;
  for (let i = 0; i < testIds.length; i++) testIds[i] = remap[testIds[i]!]!;
  return vocab;
}

/** A tokenizer's config as the experiment gives it (`data.tokenizer`). */
export type TokenizerConfig = { type: string } & Record<string, unknown>;

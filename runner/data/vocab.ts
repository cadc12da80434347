/** Index of the padding token. */
export const PAD_ID = 0;
/** Index of the unknown-token token. */
export const UNK_ID = 1;
/** The special tokens, in index order. */
export const SPECIAL_TOKENS = ['<pad>', '<unk>'] as const;

/** Vocabulary: tokens by index (specials first, then by frequency, ties alphabetical). */
export class Vocab {
  private readonly ids: Map<string, number>;

  constructor(readonly tokens: readonly string[]) {
    this.ids = new Map(tokens.map((token, id) => [token, id]));
  }

  /** Builds from tokenized training texts: tokens seen at least `minFreq` times, at most `maxSize` entries. */
  static build(tokenized: Iterable<readonly string[]>, options: { minFreq: number; maxSize?: number }): Vocab {
    const counts = new Map<string, number>();
    for (const tokens of tokenized) for (const token of tokens) counts.set(token, (counts.get(token) ?? 0) + 1);
    return Vocab.fromCounts(counts, options);
  }

  /** Builds from token counts (same rules as `build`); specials among them are ignored. */
  static fromCounts(counts: Iterable<readonly [string, number]>, options: { minFreq: number; maxSize?: number }): Vocab {
    const specials = new Set<string>(SPECIAL_TOKENS);
    const kept: [string, number][] = [];
    for (const [token, count] of counts) if (count >= options.minFreq && !specials.has(token)) kept.push([token, count]);
    kept.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const limit = options.maxSize === undefined ? kept.length : Math.max(0, options.maxSize - SPECIAL_TOKENS.length);
    return new Vocab([...SPECIAL_TOKENS, ...kept.slice(0, limit).map(([token]) => token)]);
  }

  /** Reads `vocab.txt` (one token per line, line number = index). */
  static parse(text: string): Vocab {
    const tokens = text.split('\n');
    if (tokens.at(-1) === '') tokens.pop();
    return new Vocab(tokens);
  }

  /** Number of entries, specials included. */
  get size(): number {
    return this.tokens.length;
  }

  /** The id of a token, `UNK_ID` when unknown. */
  id(token: string): number {
    return this.ids.get(token) ?? UNK_ID;
  }

  /** `vocab.txt` contents: one token per line in index order. */
  serialize(): string {
    return this.tokens.join('\n') + '\n';
  }

  /**
   * Token ids of many texts as one row-major `[texts.length, maxLen]` matrix, truncated or padded
   * at the end with `PAD_ID`.
   */
  encode(tokenized: readonly (readonly string[])[], maxLen: number): Int32Array {
    const ids = new Int32Array(tokenized.length * maxLen); // zero-filled: PAD_ID
    tokenized.forEach((tokens, row) => {
      const length = Math.min(tokens.length, maxLen);
      const offset = row * maxLen;
      for (let i = 0; i < length; i++) ids[offset + i] = this.ids.get(tokens[i]!) ?? UNK_ID;
    });
    return ids;
  }
}

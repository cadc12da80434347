import type { IndexedPart } from './text-encode.ts';

/**
 * True for the UTF-16 code units JavaScript's `\s` matches (what the `whitespace` tokenizer splits
 * on): tab, LF, VT, FF, CR, space, NBSP, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F,
 * U+3000, U+FEFF.
 */
export function isJsWhitespace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/** Distinct tokens by id: their UTF-16 code units in one pool, found through an open-addressing hash table. */
class TokenTable {
  size = 0;
  private chars = new Uint16Array(1 << 20);
  private used = 0;
  private starts = new Int32Array((1 << 16) + 1); // token id → start in chars; starts[size] = used
  private slots = new Int32Array(1 << 18); // id + 1; 0 = empty
  private hashes = new Int32Array(1 << 18);
  private mask = (1 << 18) - 1;

  /** The id of text[start, end) (hash given), adding it when new. */
  idOf(text: string, start: number, end: number, hash: number): number {
    const length = end - start;
    const { slots, hashes, chars, starts, mask } = this;
    let j = hash & mask;
    for (let slot = slots[j]!; slot !== 0; slot = slots[(j = (j + 1) & mask)]!) {
      if (hashes[j] !== hash) continue;
      const from = starts[slot - 1]!;
      if (starts[slot]! - from !== length) continue;
      let k = 0;
      while (k < length && chars[from + k] === text.charCodeAt(start + k)) k++;
      if (k === length) return slot - 1;
    }
    return this.add(text, start, end, hash, j);
  }

  private add(text: string, start: number, end: number, hash: number, slot: number): number {
    const id = this.size++;
    if (this.used + (end - start) > this.chars.length) this.chars = grown(this.chars, this.used + (end - start));
    for (let i = start; i < end; i++) this.chars[this.used++] = text.charCodeAt(i);
    if (this.size + 1 > this.starts.length) this.starts = grown(this.starts, this.size + 1);
    this.starts[id + 1] = this.used;
    this.slots[slot] = id + 1;
    this.hashes[slot] = hash;
    if (this.size * 2 > this.slots.length) this.rehash();
    return id;
  }

  private rehash(): void {
    const [oldSlots, oldHashes] = [this.slots, this.hashes];
    this.slots = new Int32Array(oldSlots.length * 2);
    this.hashes = new Int32Array(oldSlots.length * 2);
    this.mask = this.slots.length - 1;
    for (let i = 0; i < oldSlots.length; i++) {
      if (oldSlots[i] === 0) continue;
      let j = oldHashes[i]! & this.mask;
      while (this.slots[j] !== 0) j = (j + 1) & this.mask;
      this.slots[j] = oldSlots[i]!;
      this.hashes[j] = oldHashes[i]!;
    }
  }

  /** Every token as a string, by id. */
  strings(): string[] {
    const out = new Array<string>(this.size);
    for (let id = 0; id < this.size; id++) out[id] = fromCodeUnits(this.chars.subarray(this.starts[id]!, this.starts[id + 1]!));
    return out;
  }
}

/** The string of UTF-16 code units, exactly (lone surrogates too, unlike a UTF-16 decoder). */
function fromCodeUnits(units: Uint16Array): string {
  if (units.length <= 4096) return String.fromCharCode.apply(null, units as unknown as number[]);
  let out = '';
  for (let i = 0; i < units.length; i += 4096) out += String.fromCharCode.apply(null, units.subarray(i, i + 4096) as unknown as number[]);
  return out;
}

function grown<T extends Uint16Array | Int32Array>(array: T, atLeast: number): T {
  let length = array.length * 2;
  while (length < atLeast) length *= 2;
  const out = new (array.constructor as new (n: number) => T)(length);
  out.set(array);
  return out;
}

/**
 * `indexTexts` for the `whitespace` tokenizer without making a string per token: each text is
 * (lower-cased and) scanned once, every token is hashed in place and looked up in a table of the
 * distinct tokens' code units; strings are made once per distinct token, at the end. The output is
 * identical to `indexTexts(whitespaceTokenizer, ...)` (a test holds the two together).
 */
export function indexTextsByWhitespace(
  lowercase: boolean,
  trainTexts: readonly string[],
  testTexts: readonly string[],
  maxLen: number,
): IndexedPart {
  const table = new TokenTable();
  let counts = new Int32Array(1 << 16);

  /**
   * Scans one text: writes the ids (+ 1) of its first `maxLen` tokens at `ids[offset...]` and, for
   * training texts, counts every token; test texts stop after `maxLen` tokens.
   */
  const scan = (raw: string, ids: Int32Array, offset: number, training: boolean) => {
    const text = lowercase ? raw.toLowerCase() : raw;
    const n = text.length;
    let position = 0;
    let i = 0;
    for (;;) {
      let c = 0;
      // skip whitespace (ASCII checked inline, the rest by isJsWhitespace)
      while (i < n && ((c = text.charCodeAt(i)) <= 0x20 ? c === 0x20 || (c >= 0x09 && c <= 0x0d) : c >= 0xa0 && isJsWhitespace(c))) i++;
      if (i >= n) return;
      const start = i;
      let hash = 0x811c9dc5 | 0; // FNV-1a over UTF-16 code units
      do {
        hash = Math.imul(hash ^ c, 0x01000193);
        if (++i >= n) break;
        c = text.charCodeAt(i);
      } while (c > 0x20 ? c < 0xa0 || !isJsWhitespace(c) : !(c === 0x20 || (c >= 0x09 && c <= 0x0d)));
      const id = table.idOf(text, start, i, hash);
      if (position < maxLen) ids[offset + position] = id + 1;
      position++;
      if (training) {
        if (id >= counts.length) counts = grown(counts, id + 1);
        counts[id]!++;
      } else if (position >= maxLen) return;
    }
  };

  const trainIds = new Int32Array(trainTexts.length * maxLen);
  for (let row = 0; row < trainTexts.length; row++) scan(trainTexts[row]!, trainIds, row * maxLen, true);
  const testIds = new Int32Array(testTexts.length * maxLen);
  for (let row = 0; row < testTexts.length; row++) scan(testTexts[row]!, testIds, row * maxLen, false);
  if (table.size > counts.length) counts = grown(counts, table.size);
  return { tokens: table.strings(), counts: counts.slice(0, table.size), trainIds, testIds };
}

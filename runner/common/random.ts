/** Seeded pseudo-random numbers from 32-bit integer arithmetic only: the same values on every machine. */

/** murmur3's 32-bit finalizer: mixes all bits of a uint32 into all others. */
export function fmix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** FNV-1a hash of a string's UTF-8 bytes, as a uint32. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) hash = Math.imul(hash ^ byte, 0x01000193);
  return hash >>> 0;
}

/** mulberry32: a small PRNG over a uint32 state; returns a generator of uint32 values. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** A uniform number in [0, 1) with 53 random bits, determined by seed, dotted path and sample number. */
export function uniformAt(seed: number, path: string, sample: number): number {
  let state = fmix32((seed ^ 0x9e3779b9) >>> 0);
  state = fmix32((state ^ fnv1a32(path)) >>> 0);
  state = fmix32((state ^ sample) >>> 0);
  const next = mulberry32(state);
  const high = next() >>> 5; // 27 bits
  const low = next() >>> 6; // 26 bits
  return (high * 67108864 + low) / 9007199254740992;
}

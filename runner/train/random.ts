import { mulberry32 } from '../sweep/random.ts';

/** Uniform numbers in [0, 1) from mulberry32: same seed, same sequence on every machine. */
export function seededRandom(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() / 4294967296;
}

/** A permutation of 0..n-1 (Fisher–Yates with `random`). */
export function shuffledIndices(n: number, random: () => number): Int32Array {
  const indices = new Int32Array(n);
  for (let i = 0; i < n; i++) indices[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = indices[i]!;
    indices[i] = indices[j]!;
    indices[j] = swap;
  }
  return indices;
}

/**
 * Runs `body` with `Math.random` replaced by a PRNG seeded with `seed`, restoring it afterwards.
 * tfjs draws every unseeded random number (weight initialisers, dropout masks) from Math.random,
 * so this makes a whole run reproducible without fixing dropout to one mask.
 */
export async function withSeededMathRandom<T>(seed: number, body: () => Promise<T>): Promise<T> {
  const original = Math.random;
  Math.random = seededRandom(seed ^ 0x5eed);
  try {
    return await body();
  } finally {
    Math.random = original;
  }
}

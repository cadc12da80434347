import { mulberry32 } from '../common/random.ts';

/** A seeded stream of uniform numbers in [0, 1) whose position can be read and set (checkpoints). */
export interface RandomStream {
  (): number;
  /** The generator's position: restoring it replays the same numbers from there on. */
  state(): number;
  /** Moves the generator to a position `state()` returned. */
  restore(state: number): void;
}

/** Uniform numbers in [0, 1) from mulberry32: same seed, same sequence on every machine. */
export function seededRandom(seed: number): RandomStream {
  let position = seed >>> 0;
  let next = mulberry32(position);
  let drawn = 0;
  const stream = (() => {
    drawn++;
    return next() / 4294967296;
  }) as RandomStream;
  // mulberry32's state advances by a fixed increment per draw, so the position is seed + draws × increment.
  stream.state = () => (position + Math.imul(drawn, 0x6d2b79f5)) >>> 0;
  stream.restore = (state: number) => {
    position = state >>> 0;
    next = mulberry32(position);
    drawn = 0;
  };
  return stream;
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
 * so this makes a whole run reproducible without fixing dropout to one mask. `body` gets the stream,
 * so a checkpoint can save its position and a resumed run put it back.
 */
export async function withSeededMathRandom<T>(seed: number, body: (stream: RandomStream) => Promise<T>): Promise<T> {
  const original = Math.random;
  const stream = seededRandom(seed ^ 0x5eed);
  Math.random = stream;
  try {
    return await body(stream);
  } finally {
    Math.random = original;
  }
}

import type * as tf from '@tensorflow/tfjs';
import { Type, type Static, type TLiteral, type TUnion } from '@sinclair/typebox';

/** A source of uniform numbers in [0, 1): the pipeline's seeded PRNG. */
export type Rng = () => number;

/** Height, width and channels of one image. */
export type ImageShape = [height: number, width: number, channels: number];

/** Which splits a deterministic image step runs on. */
export type ApplyTo = 'both' | 'train' | 'test';

/**
 * One image step. Images are float32 `[batch, height, width, channels]` batches; pixel values are in
 * [0, 255] until a `normalize` step maps them to the model's input range.
 */
export interface ImageAugmentation {
  kind: 'image';
  /** Component name, for messages. */
  name: string;
  /** Random steps run on training batches only; evaluation uses the deterministic ones. */
  random: boolean;
  /** Splits a deterministic step runs on (random steps: always 'train'). */
  applyTo: ApplyTo;
  /** False for steps that change only the value range (normalize): the sample grid leaves them out. */
  visible: boolean;
  /** Shape of one output image for an input of `shape`; throws an Error saying why it cannot take it. */
  outputShape(shape: ImageShape): ImageShape;
  /** Transforms a batch (called inside tf.tidy); random steps draw every random choice from `random`. */
  apply(images: tf.Tensor4D, random: Rng): tf.Tensor4D;
}

/** One text step on int32 token ids `[batch, max_len]` (`<pad>` = 0, `<unk>` = 1); training batches only. */
export interface TextAugmentation {
  kind: 'text';
  name: string;
  random: true;
  /** Transforms a batch of token ids (called inside tf.tidy). */
  apply(ids: tf.Tensor2D, random: Rng): tf.Tensor2D;
}

/** What an augmentation component builds. */
export type Augmentation = ImageAugmentation | TextAugmentation;

/** Token id of padding, as the vocabulary assigns it. */
export const PAD_ID = 0;
/** Token id of unknown words, as the vocabulary assigns it. */
export const UNK_ID = 1;

/** The longest image side a config may ask for, in pixels. */
export const MAX_IMAGE_SIDE = 8192;

/** `size` param: one number (square, or the shorter side for `resize`) or `[height, width]`. */
export function SizeParam(description: string, defaultValue?: number) {
  const pixels = Type.Integer({ minimum: 1, maximum: MAX_IMAGE_SIDE });
  return Type.Union([pixels, Type.Tuple([pixels, pixels])], {
    description,
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
  });
}

/** The `size` param as written in a config. */
export type SizeValue = Static<ReturnType<typeof SizeParam>>;

/** `[height, width]` of a `size` param (a single number means a square). */
export function squareSize(size: SizeValue): [number, number] {
  return typeof size === 'number' ? [size, size] : [size[0], size[1]];
}

/**
 * A string param limited to `values` (a union of literals: TypeBox can check it when components
 * are built directly, and ajv reports it as "expected ... or ...").
 */
export function Choice<const T extends readonly string[]>(values: T, options: { default: T[number]; description: string }) {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  ) as unknown as TUnion<TLiteral<T[number]>[]>;
}

/** The `apply_to` param of deterministic steps. */
export const ApplyToParam = Choice(['both', 'train', 'test'], {
  default: 'both',
  description: 'Splits this step runs on: both (default), train (training batches only) or test (evaluation only).',
});

/** A probability param in [0, 1]. */
export function Probability(description: string, defaultValue: number) {
  return Type.Number({ minimum: 0, maximum: 1, default: defaultValue, description });
}

/** A uniform draw in [low, high) from `random`. */
export function uniform(random: Rng, low: number, high: number): number {
  return low + (high - low) * random();
}

/** An integer seed for a tfjs random op, drawn from `random` (so the op is reproducible too). */
export function seedFrom(random: Rng): number {
  return Math.floor(random() * 2 ** 31);
}

/** `h×w×c` for messages. */
export function formatShape(shape: readonly number[]): string {
  return shape.join('×');
}

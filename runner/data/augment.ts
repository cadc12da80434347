import * as tf from '@tensorflow/tfjs';
import { augmentations } from '../../components/augmentation/index.ts';
import type { Augmentation, ImageAugmentation, Rng, TextAugmentation } from '../../components/augmentation/augmentation.ts';
import { ConfigError, ConfigKeyError, type ConfigIssue, type ConfigPath } from '../config/issues.ts';
import { UserError } from '../errors.ts';
import type { BuildContext } from '../registry.ts';
import { seededRandom, type RandomStream } from '../train/random.ts';
import type { Batch, BatchSource } from './batches.ts';

/** One built step of `data.augmentation`, with its index in that list (for located errors). */
export interface PlacedStep<A extends Augmentation = Augmentation> {
  index: number;
  step: A;
}

/** Builds the steps of `data.augmentation` in order; steps with bad params are one ConfigError, each at `data.augmentation[i]`. */
export function buildAugmentations(configs: readonly ({ type: string } & Record<string, unknown>)[], context: BuildContext): PlacedStep[] {
  const issues: ConfigIssue[] = [];
  const steps: PlacedStep[] = [];
  configs.forEach((config, index) => {
    try {
      steps.push({ index, step: augmentations.build(config, context) });
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      const at: ConfigPath = ['data', 'augmentation', index];
      if (error instanceof ConfigKeyError) issues.push(...error.within(at).issues);
      else if (error instanceof ConfigError) issues.push(...error.issues);
      else issues.push({ path: at, message: error.message });
    }
  });
  if (issues.length > 0) throw new ConfigError(issues);
  return steps;
}

/** The steps as `kind` steps; a step of the other kind is a ConfigError at its place in the list. */
export function stepsOfKind<K extends Augmentation['kind']>(
  steps: readonly PlacedStep[],
  kind: K,
): PlacedStep<Extract<Augmentation, { kind: K }>>[] {
  const wrong = steps.filter((s) => s.step.kind !== kind);
  if (wrong.length > 0) {
    throw new ConfigError(
      wrong.map((s) => ({
        path: ['data', 'augmentation', s.index],
        message: `${s.step.name} is ${s.step.kind === 'image' ? 'an image' : 'a text'} augmentation, but the dataset holds ${kind === 'image' ? 'images' : 'texts'}.`,
        hint:
          kind === 'image'
            ? 'Image steps: random_horizontal_flip, random_vertical_flip, random_resized_crop, color_jitter, resize, center_crop, normalize.'
            : 'Text steps: token_dropout, random_swap, random_mask.',
      })),
    );
  }
  return steps as PlacedStep<Extract<Augmentation, { kind: K }>>[];
}

/** The seeded stream every random augmentation of a run draws from (separate from shuffling and init). */
export function augmentationRandom(seed: number): RandomStream {
  return seededRandom((seed ^ 0x0a06) >>> 0);
}

/** Text steps applied in order to training batches of token ids. */
export function textAugmenter(steps: readonly PlacedStep<TextAugmentation>[], random: Rng): (ids: tf.Tensor) => tf.Tensor {
  return (ids) => steps.reduce((x, { step }) => step.apply(x as tf.Tensor2D, random), ids as tf.Tensor2D);
}

/** Wraps a source so that its training batches go through `augment` (evaluation batches never do). */
export class AugmentedBatchSource implements BatchSource {
  constructor(
    private readonly inner: BatchSource,
    private readonly augment: (x: tf.Tensor) => tf.Tensor,
    /** The stream `augment` draws from, saved in checkpoints. */
    private readonly random?: RandomStream,
  ) {}

  randomState(): number | undefined {
    return this.random?.state();
  }

  restoreRandomState(state: number): void {
    this.random?.restore(state);
  }

  get count(): number {
    return this.inner.count;
  }

  get labels(): Int32Array {
    return this.inner.labels;
  }

  batch(indices: Int32Array, training: boolean): Batch {
    const batch = this.inner.batch(indices, training);
    if (!training) return batch;
    const x = tf.tidy(() => this.augment(batch.x));
    if (x !== batch.x) batch.x.dispose();
    return { x, y: batch.y };
  }

  dispose(): void {
    this.inner.dispose();
  }
}

/** Image steps in list order, as `ImageAugmentation`s (for callers that already checked the kind). */
export type ImageSteps = PlacedStep<ImageAugmentation>[];

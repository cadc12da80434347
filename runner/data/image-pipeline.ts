import * as tf from '@tensorflow/tfjs';
import type { ImageShape, Rng } from '../../components/augmentation/augmentation.ts';
import { formatShape } from '../../components/augmentation/augmentation.ts';
import { ConfigError, type ConfigIssue } from '../config/issues.ts';
import { encodePng, Raster } from '../common/png.ts';
import { seededRandom, type RandomStream } from '../train/random.ts';
import { augmentationRandom, type ImageSteps } from './augment.ts';
import { evaluationOnly, type Batch, type BatchSource } from './batches.ts';
import type { DataRunRecord, ImageDataset, ImageSplit, PreparedData } from './types.ts';

/**
 * The image steps of `data.augmentation`, split into the training path (random steps and
 * deterministic ones for train/both) and the evaluation path (deterministic steps for test/both).
 */
export class ImagePipeline {
  private constructor(
    readonly trainSteps: ImageSteps,
    readonly evalSteps: ImageSteps,
    /** Shape of one image as the model sees it (both paths agree). */
    readonly outputShape: ImageShape,
  ) {}

  /**
   * Checks that every step can take what the one before gives, and that both paths end at the
   * same shape; problems are ConfigErrors located at `data.augmentation[i]`.
   */
  static compose(steps: ImageSteps, input: ImageShape): ImagePipeline {
    const trainSteps = steps.filter(({ step }) => step.random || step.applyTo !== 'test');
    const evalSteps = steps.filter(({ step }) => !step.random && step.applyTo !== 'train');
    const issues: ConfigIssue[] = [];
    const walk = (path: ImageSteps, split: string): ImageShape | undefined => {
      let shape = input;
      let normalized = false;
      for (const { index, step } of path) {
        if (normalized && step.name === 'color_jitter') {
          issues.push({
            path: ['data', 'augmentation', index],
            message: 'color_jitter works on pixels in [0, 255] but comes after normalize.',
            hint: 'Move normalize to the end of the list.',
          });
        }
        normalized ||= step.name === 'normalize';
        try {
          shape = step.outputShape(shape);
        } catch (error) {
          issues.push({ path: ['data', 'augmentation', index], message: `${step.name} (${split} path): ${(error as Error).message}.` });
          return undefined;
        }
      }
      return shape;
    };
    const trainShape = walk(trainSteps, 'training');
    const evalShape = walk(evalSteps, 'evaluation');
    if (trainShape && evalShape && formatShape(trainShape) !== formatShape(evalShape)) {
      issues.push({
        path: ['data', 'augmentation'],
        message:
          `training images come out ${formatShape(trainShape)} but evaluation images ${formatShape(evalShape)} ` +
          `(stored images are ${formatShape(input)}); the model needs one input size.`,
        hint:
          'Random steps run on training batches only: pair e.g. random_resized_crop (size 224) with ' +
          '{type: center_crop, size: 224, apply_to: test} (or resize + center_crop) for evaluation.',
      });
    }
    if (issues.length > 0) throw new ConfigError(issues);
    return new ImagePipeline(trainSteps, evalSteps, trainShape!);
  }

  /** Runs the training path (with `random`) or the evaluation path on a batch; `visibleOnly` skips value-range steps. */
  run(images: tf.Tensor4D, training: boolean, random: Rng, visibleOnly = false): tf.Tensor4D {
    const steps = training ? this.trainSteps : this.evalSteps;
    let out = images;
    for (const { step } of steps) if (!visibleOnly || step.visible) out = step.apply(out, random);
    return out;
  }

  /** One line per path for logs: "train: random_resized_crop → ... | test: center_crop → ...". */
  describe(): string {
    const names = (steps: ImageSteps) => (steps.length ? steps.map((s) => s.step.name).join(' → ') : '(none)');
    return `train: ${names(this.trainSteps)}; test: ${names(this.evalSteps)}`;
  }
}

/**
 * Time spent producing training batches, to compare with the time of training steps. On the CPU
 * backends ops run synchronously, so this is the real cost; on a GPU it is the time to enqueue them.
 */
export interface DataWait {
  /** Seconds inside `batch()` for training batches (gather + augmentation). */
  seconds: number;
  batches: number;
}

/**
 * Batches of one image split. Decoded images stay in memory as bytes (decoded once, by the
 * dataset); a batch copies its images' bytes into one tensor and runs the pipeline on the backend.
 */
export class ImageBatchSource implements BatchSource {
  readonly count: number;
  readonly labels: Int32Array;
  private readonly imageBytes: number;
  private readonly random: RandomStream;
  private readonly wait: DataWait = { seconds: 0, batches: 0 };

  constructor(
    private readonly split: ImageSplit,
    /** Shape of the stored images. */
    readonly storedShape: ImageShape,
    readonly pipeline: ImagePipeline,
    seed: number,
  ) {
    this.labels = split.labels;
    this.count = split.labels.length;
    this.imageBytes = storedShape[0] * storedShape[1] * storedShape[2];
    this.random = augmentationRandom(seed);
  }

  randomState(): number {
    return this.random.state();
  }

  restoreRandomState(state: number): void {
    this.random.restore(state);
  }

  /** The stored images at `indices` as float32 `[n, h, w, c]` in [0, 255] (no steps applied). */
  images(indices: Int32Array): tf.Tensor4D {
    const bytes = new Uint8Array(indices.length * this.imageBytes);
    indices.forEach((index, i) =>
      bytes.set(this.split.pixels.subarray(index * this.imageBytes, (index + 1) * this.imageBytes), i * this.imageBytes),
    );
    return tf.tensor4d(new Float32Array(bytes), [indices.length, ...this.storedShape]);
  }

  batch(indices: Int32Array, training: boolean): Batch {
    const start = performance.now();
    const x = tf.tidy(() => this.pipeline.run(this.images(indices), training, this.random));
    const y = tf.tensor1d(
      Int32Array.from(indices, (i) => this.labels[i]!),
      'int32',
    );
    if (training) {
      this.wait.seconds += (performance.now() - start) / 1000;
      this.wait.batches++;
    }
    return { x, y };
  }

  /** Time spent producing training batches so far. */
  dataWait(): DataWait {
    return { ...this.wait };
  }

  /**
   * A PNG grid of what augmentation does: one row per image (spread over the split), the first
   * column as evaluation sees it, then `columns` training draws. normalize is left out so the
   * pixels show; the draws use their own seeded stream, so training batches are unaffected.
   */
  sampleGrid(options: { rows?: number; columns?: number; seed?: number } = {}): Buffer {
    const rows = Math.min(options.rows ?? 6, this.count);
    const columns = options.columns ?? 7;
    const random = seededRandom(((options.seed ?? 0) ^ 0x9e1d) >>> 0);
    const picks = Int32Array.from({ length: rows }, (_, r) => Math.floor(((r + 0.5) * this.count) / rows));
    const pad = 2;
    const grid = tf.tidy(() => {
      const originals = this.images(picks);
      const views = [this.pipeline.run(originals, false, random, true)];
      for (let c = 0; c < columns; c++) views.push(this.pipeline.run(originals, true, random, true));
      const [, h, w, channels] = views[0]!.shape;
      const cells = tf.pad(
        tf.stack(views, 1),
        [
          [0, 0],
          [0, 0],
          [pad, pad],
          [pad, pad],
          [0, 0],
        ],
        255,
      ); // [rows, cols, h, w, c]
      const image = tf.reshape(tf.transpose(cells, [0, 2, 1, 3, 4]), [rows * (h + 2 * pad), (columns + 1) * (w + 2 * pad), channels]);
      return tf.cast(tf.clipByValue(tf.round(channels === 1 ? tf.tile(image, [1, 1, 3]) : image), 0, 255), 'int32') as tf.Tensor3D;
    });
    const [height, width] = grid.shape;
    const pixels = grid.dataSync();
    grid.dispose();
    const raster = new Raster(width, height);
    raster.pixels.set(pixels);
    return encodePng(raster);
  }

  dispose(): void {}
}

/**
 * An image dataset as batch sources: all splits share the pipeline (validation and test take its
 * evaluation path); the model input is its output shape.
 */
export function imageBatchSources(dataset: ImageDataset, steps: ImageSteps, seed: number): Omit<PreparedData, 'dataSeconds'> {
  const pipeline = ImagePipeline.compose(steps, dataset.imageShape);
  const train = new ImageBatchSource(dataset.train, dataset.imageShape, pipeline, seed);
  return {
    classes: dataset.classes,
    inputShape: [...pipeline.outputShape],
    train,
    ...(dataset.validation && {
      validation: evaluationOnly(new ImageBatchSource(dataset.validation, dataset.imageShape, pipeline, seed + 2)),
    }),
    test: new ImageBatchSource(dataset.test, dataset.imageShape, pipeline, seed + 1),
    runRecord: imageRunRecord(train),
  };
}

/** Augmentation in a run's record: `augmentation_grid.png` before training, `data_wait.json` after it. */
export function imageRunRecord(train: ImageBatchSource): DataRunRecord {
  const augmentation = `augmentation: ${train.pipeline.describe()}`;
  return {
    preparation: [augmentation],
    beforeTraining(run) {
      run.writeFile('augmentation_grid.png', train.sampleGrid({ seed: run.seed }));
      run.info(`${augmentation} (samples: augmentation_grid.png)`);
    },
    afterTraining(run, epochs) {
      const wait = dataWaitReport(train.dataWait(), epochs);
      run.writeJson('data_wait.json', wait);
      run.info(`data: ${(wait.fraction * 100).toFixed(2)}% of training time spent preparing batches`);
    },
  };
}

/** The share of training time spent producing batches, from the source's timing and the epoch records. */
export function dataWaitReport(wait: DataWait, epochs: readonly object[]): DataWait & { train_seconds: number; fraction: number } {
  const trainSeconds = epochs.reduce<number>((sum, e) => sum + ((e as { epoch_time_s?: number }).epoch_time_s ?? 0), 0);
  return { ...wait, train_seconds: trainSeconds, fraction: trainSeconds > 0 ? wait.seconds / trainSeconds : 0 };
}

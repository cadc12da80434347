import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { squareSize, type ImageShape, type SizeValue } from '../../components/augmentation/augmentation.ts';
import { decodeInto, type Fit } from '../../components/dataset/image-decode.ts';
import { tokenizers } from '../../components/tokenizer/index.ts';
import type { Tokenizer } from '../../components/tokenizer/tokenizer.ts';
import type { ConfigOverride, LoadedConfig } from '../config/load.ts';
import { loadConfigWithPlugins } from '../config/plugins.ts';
import type { ExperimentConfig } from '../config/schema.ts';
import { UserError } from '../errors.ts';
import { buildAugmentations, stepsOfKind } from '../data/augment.ts';
import { indexRange, TensorBatchSource, type BatchSource } from '../data/batches.ts';
import { ImageBatchSource, ImagePipeline } from '../data/image-pipeline.ts';
import type { ImageSplit } from '../data/types.ts';
import { Vocab } from '../data/vocab.ts';
import type { BuildContext } from '../registry.ts';
import { loadModel } from './model-io.ts';
import { summaryStatus } from './resume.ts';
import { CLASSES_FILE } from './run-folder.ts';

/** How raw text becomes model input: the run's tokenizer, its vocab.txt and max_len. */
export interface TextInput {
  kind: 'text';
  tokenizer: Tokenizer;
  vocab: Vocab;
  maxLen: number;
}

/** How an image file becomes model input: decoded, fitted to the stored size, then the evaluation steps. */
export interface ImageInput {
  kind: 'image';
  /** `[height, width, 3]` images are stored at (the dataset's image_size). */
  storedShape: ImageShape;
  fit: Fit;
  pipeline: ImagePipeline;
}

/**
 * A trained run loaded from its folder alone (config.yaml, classes.json, vocab.txt, model/): the model and
 * everything that turned raw input into tensors when it was trained, so a copied run folder still predicts.
 */
export class Predictor {
  private constructor(
    readonly runDir: string,
    readonly loaded: LoadedConfig,
    readonly classes: string[],
    readonly model: tf.LayersModel,
    readonly input: TextInput | ImageInput,
  ) {}

  /** The resolved config the run trained with (with `overrides` applied on top, e.g. another dataset for evaluate). */
  get config(): ExperimentConfig {
    return this.loaded.config;
  }

  /** Loads a run folder; a folder that is not a finished run's, or whose files disagree, is a UserError naming it. */
  static async load(runDir: string, context: BuildContext, overrides: ConfigOverride[] = []): Promise<Predictor> {
    const dir = resolve(runDir);
    const configFile = join(dir, 'config.yaml');
    if (!existsSync(configFile)) {
      throw new UserError(`${runDir} is not a run folder: it has no config.yaml (give runs/<experiment>/<run-id>).`);
    }
    const modelDir = join(dir, 'model');
    if (!existsSync(join(modelDir, 'model.json'))) {
      const status = summaryStatus(dir);
      throw new UserError(
        `The run folder ${runDir} has no saved model (model/model.json)` +
          (status ? `; the run ended ${status}` : '; the run never finished (it may have been killed)') +
          ' before a model was saved (a run saves its model once an epoch has completed, unless train.save_model is false). ' +
          (existsSync(join(dir, 'checkpoints', 'last'))
            ? `Continue it with 'runner run --resume ${runDir}', then predict.`
            : 'Train it again.'),
      );
    }
    const loaded = await loadConfigWithPlugins(configFile, overrides);
    const classes = readClasses(dir, runDir);
    const model = await loadModel(modelDir);
    try {
      const outputs = model.outputs[0]!.shape.at(-1);
      if (outputs !== classes.length) {
        throw new UserError(
          `The run folder ${runDir} names ${classes.length} classes (${classes.join(', ')}) but its model has ${outputs} outputs; ` +
            'classes.json and model/ come from different runs.',
        );
      }
      const input = existsSync(join(dir, 'vocab.txt'))
        ? textInput(dir, loaded.config, context)
        : imageInput(runDir, loaded.config, context);
      const expected = model.inputs[0]!.shape.slice(1).join(', ');
      const actual = (input.kind === 'text' ? [input.maxLen] : input.pipeline.outputShape).join(', ');
      if (expected !== actual) {
        throw new UserError(`The model in ${runDir} takes inputs of shape [${expected}], but the run's config prepares [${actual}].`);
      }
      return new Predictor(dir, loaded, classes, model, input);
    } catch (error) {
      model.dispose();
      throw error;
    }
  }

  /** Token ids `[texts.length, max_len]` of texts, as training encoded them (an empty text is all padding). */
  encodeTexts(texts: readonly string[]): Int32Array {
    const input = this.textInput();
    return input.vocab.encode(
      texts.map((text) => input.tokenizer.tokenize(text)),
      input.maxLen,
    );
  }

  /** Decodes and fits one image file's bytes to the stored size (throws ImageDecodeError for bytes that are no image). */
  decodeImage(bytes: Uint8Array): Uint8Array {
    const input = this.imageInput();
    const out = new Uint8Array(input.storedShape[0] * input.storedShape[1] * 3);
    decodeInto(bytes, out, [input.storedShape[0], input.storedShape[1]], input.fit);
    return out;
  }

  /** A batch source over inputs already encoded (`encodeTexts` ids, or stored-size image pixels), with their labels. */
  source(encoded: Int32Array | Uint8Array, labels: Int32Array, files: string[] = []): BatchSource {
    if (this.input.kind === 'text') {
      return new TensorBatchSource(tf.tensor2d(encoded as Int32Array, [labels.length, this.input.maxLen], 'int32'), labels);
    }
    const split: ImageSplit = { pixels: encoded as Uint8Array, labels, files };
    return new ImageBatchSource(split, this.input.storedShape, this.input.pipeline, this.config.seed);
  }

  /** Class probabilities `[count, classes]` (row-major) and the most probable class of every example of `source`, in batches. */
  predict(source: BatchSource, batchSize: number): { probabilities: Float32Array; labels: Int32Array } {
    const k = this.classes.length;
    const probabilities = new Float32Array(source.count * k);
    const labels = new Int32Array(source.count);
    for (let start = 0; start < source.count; start += batchSize) {
      const end = Math.min(start + batchSize, source.count);
      const [batchProbabilities, batchLabels] = tf.tidy(() => {
        const p = tf.softmax(this.model.apply(source.batch(indexRange(start, end), false).x, { training: false }) as tf.Tensor2D);
        return [p, tf.argMax(p, 1)];
      });
      probabilities.set(batchProbabilities.dataSync(), start * k);
      labels.set(batchLabels.dataSync(), start);
      tf.dispose([batchProbabilities, batchLabels]);
    }
    return { probabilities, labels };
  }

  dispose(): void {
    this.model.dispose();
  }

  private textInput(): TextInput {
    if (this.input.kind !== 'text') throw new UserError(`The run in ${this.runDir} classifies images; give image files, not texts.`);
    return this.input;
  }

  private imageInput(): ImageInput {
    if (this.input.kind !== 'image') throw new UserError(`The run in ${this.runDir} classifies texts; give texts, not image files.`);
    return this.input;
  }
}

/** The classes in model output order: classes.json, else (runs from before it existed) classification_report.json. */
function readClasses(dir: string, runDir: string): string[] {
  for (const [file, pick] of [
    [CLASSES_FILE, (v: unknown) => v],
    ['classification_report.json', (v: unknown) => (v as { classes?: unknown }).classes],
  ] as const) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    const classes = pick(JSON.parse(readFileSync(path, 'utf8')));
    if (Array.isArray(classes) && classes.length > 0 && classes.every((c) => typeof c === 'string')) return classes as string[];
    throw new UserError(`${path} does not list the classes (expected a JSON array of class names).`);
  }
  throw new UserError(
    `The run folder ${runDir} has neither ${CLASSES_FILE} nor classification_report.json, so its class names are unknown.`,
  );
}

function textInput(dir: string, config: ExperimentConfig, context: BuildContext): TextInput {
  const tokenizer = tokenizers.build(config.data.tokenizer ?? { type: 'whitespace' }, context);
  const vocab = Vocab.parse(readFileSync(join(dir, 'vocab.txt'), 'utf8'));
  return { kind: 'text', tokenizer, vocab, maxLen: config.data.max_len };
}

function imageInput(runDir: string, config: ExperimentConfig, context: BuildContext): ImageInput {
  const params = config.data.dataset as { image_size?: SizeValue; fit?: Fit };
  if (params.image_size === undefined) {
    throw new UserError(
      `The run folder ${runDir} has no vocab.txt and its dataset (${config.data.dataset.type}) has no image_size: cannot tell how inputs were prepared.`,
    );
  }
  const [height, width] = squareSize(params.image_size);
  const storedShape: ImageShape = [height, width, 3];
  const steps = stepsOfKind(buildAugmentations(config.data.augmentation ?? [], context), 'image');
  return { kind: 'image', storedShape, fit: params.fit ?? 'crop', pipeline: ImagePipeline.compose(steps, storedShape) };
}

import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { Value } from '@sinclair/typebox/value';
import { datasets } from '../../components/dataset/index.ts';
import { models } from '../../components/model/index.ts';
import { optimizers } from '../../components/optimizer/index.ts';
import { schedules } from '../../components/schedule/index.ts';
import { tokenizers } from '../../components/tokenizer/index.ts';
import {
  buildPretrainedEmbedding,
  describeEmbedding,
  embeddingInfo,
  freezeEmbeddingLayers,
  type EmbeddingInfo,
} from '../../components/embedding/apply.ts';
import type { PretrainedEmbedding } from '../../components/embedding/embedding.ts';
import { withoutNestedSlots, type ComponentConfig, type ExperimentConfig } from '../config/schema.ts';
import { ConfigError, ConfigKeyError, type ConfigPath } from '../config/issues.ts';
import { UserError } from '../errors.ts';
import { augmentationRandom, AugmentedBatchSource, buildAugmentations, stepsOfKind, textAugmenter } from '../data/augment.ts';
import { imageBatchSources } from '../data/image-pipeline.ts';
import { encodeTextDataset, textBatchSources } from '../data/text-pipeline.ts';
import type { Dataset, PreparedData } from '../data/types.ts';
import { datasetInfo } from '../data/dataset-info.ts';
import { holdOutValidation } from '../data/validation.ts';
import type { BuildContext } from '../registry.ts';
import { GroupedOptimizer } from '../train/optimizer.ts';
import { resolveParamGroups, type ParamGroupPlan } from '../train/param-groups.ts';
import { LrScheduler, type ScheduleContext } from '../train/schedule.ts';

import { stepsPerEpoch } from '../train/loop.ts';
/** Everything a config builds before training: data, model, optimizer and its groups. */
export interface BuiltExperiment {
  data: PreparedData;
  model: tf.LayersModel;
  optimizer: GroupedOptimizer;
  plan: ParamGroupPlan;
  /** The pretrained embedding the model started from (its matrix already copied and released). */
  embedding?: EmbeddingInfo;
}

/** Builds the config's components in order: dataset → tokenizer → vocab → model → optimizer groups. */
export async function buildExperiment(config: ExperimentConfig, context: BuildContext): Promise<BuiltExperiment> {
  const data = await prepareData(config, context);
  try {
    const pretrained = await loadEmbedding(config, data, context);
    let model: tf.LayersModel;
    try {
      model = await withinKey(['model'], async () =>
        models.build(config.model, {
          numClasses: data.classes.length,
          inputShape: data.inputShape,
          vocabSize: data.vocab?.size,
          pretrainedEmbedding: pretrained?.matrix,
        }),
      );
    } finally {
      pretrained?.matrix.dispose();
    }
    try {
      if (pretrained?.freeze) freezeEmbeddingLayers(model);
      const spec = await withinKey(['optimizer'], async () => optimizers.build(withoutNestedSlots('optimizer', config.optimizer), context));
      const plan = resolveParamGroups(model, { lr: spec.lr, weightDecay: spec.weightDecay, groups: spec.paramGroups });
      const embedding = pretrained && embeddingInfo(pretrained);
      return { data, model, optimizer: new GroupedOptimizer(spec.rule, plan.groups), plan, embedding };
    } catch (error) {
      model.dispose();
      throw error;
    }
  } catch (error) {
    disposeData(data);
    throw error;
  }
}

/** Runs `body`; a ConfigKeyError it throws (located in a component's params) is moved under `prefix`, the component's key. */
async function withinKey<T>(prefix: ConfigPath, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw error instanceof ConfigKeyError ? error.within(prefix) : error;
  }
}

/** The scheduler of `optimizerConfig.schedule` over `optimizer` (constant rates when the config has no schedule). */
export function buildLrScheduler(optimizerConfig: ComponentConfig, optimizer: GroupedOptimizer, context: ScheduleContext): LrScheduler {
  const schedule = (optimizerConfig.schedule as ComponentConfig | undefined) ?? { type: 'constant' };
  return new LrScheduler(schedules.build(schedule, context), optimizer);
}

/** The scheduler of a run of `config`: its schedule over the built optimizer, for its epochs and the data's steps per epoch. */
export function runScheduler(
  config: ExperimentConfig,
  built: BuiltExperiment,
  context: BuildContext,
  monitorGoal?: ScheduleContext['monitorGoal'],
): LrScheduler {
  return buildLrScheduler(config.optimizer, built.optimizer, {
    ...context,
    epochs: config.train.epochs,
    stepsPerEpoch: stepsPerEpoch(built.data.train.count, {
      batchSize: config.data.batch_size,
      maxStepsPerEpoch: config.train.max_steps_per_epoch,
    }),
    monitorGoal,
  });
}

/**
 * Loads the dataset and turns it into batch sources (text: tokenize, vocabulary, encode; images:
 * the augmentation pipeline). `data.augmentation` steps are built first, so their errors come
 * before a long load.
 */
export async function prepareData(config: ExperimentConfig, context: BuildContext): Promise<PreparedData> {
  const start = performance.now();
  const steps = buildAugmentations(config.data.augmentation ?? [], context);
  const dataset = await loadDataset(config, context);
  const validationSource = dataset.validationSource;
  const info = datasetInfo(dataset, config.data.dataset.type);
  if (dataset.kind === 'image') {
    const sources = imageBatchSources(dataset, stepsOfKind(steps, 'image'), config.seed);
    return { ...sources, validationSource, dataset: info, dataSeconds: (performance.now() - start) / 1000 };
  }
  const textSteps = stepsOfKind(steps, 'text');
  const tokenizerConfig = config.data.tokenizer ?? { type: 'whitespace' };
  const tokenizer = tokenizers.build(tokenizerConfig, context);
  const encoded = encodeTextDataset(dataset, tokenizer, {
    minFreq: config.data.vocab.min_freq,
    maxSize: config.data.vocab.max_size,
    maxLen: config.data.max_len,
    tokenizerConfig,
  });
  const sources = textBatchSources(encoded);
  if (textSteps.length > 0) {
    const random = augmentationRandom(config.seed);
    sources.train = new AugmentedBatchSource(sources.train, textAugmenter(textSteps, random), random);
  }
  return { ...sources, validationSource, dataset: info, dataSeconds: (performance.now() - start) / 1000 };
}

/** Builds `data.dataset` with `data.validation` held out of its training split (when configured). */
export async function loadDataset(config: ExperimentConfig, context: BuildContext): Promise<Dataset> {
  return withValidation(await buildDataset(config, context), config);
}

/**
 * Builds `data.dataset`; a problem the dataset ties to one of its params is located under `data.dataset`, any other
 * problem with the data (a class folder missing, a label column absent, an empty split) at the key that named the data.
 */
async function buildDataset(config: ExperimentConfig, context: BuildContext): Promise<Dataset> {
  try {
    return await datasets.build(config.data.dataset, context);
  } catch (error) {
    if (error instanceof ConfigKeyError) throw error.within(['data', 'dataset']);
    if (error instanceof UserError && !(error instanceof ConfigError)) {
      const located = new ConfigKeyError(dataKey(config.data.dataset), error.message);
      located.stack = error.stack;
      throw located;
    }
    throw error;
  }
}

/** The config key that names a dataset's data: its `path` (or `train` table) when it has one, else the dataset. */
function dataKey(dataset: Record<string, unknown>): ConfigPath {
  const key = ['path', 'train'].find((k) => typeof dataset[k] === 'string');
  return key ? ['data', 'dataset', key] : ['data', 'dataset'];
}

/** The dataset with `data.validation` held out of its training split (when configured); both kinds of validation split are an error. */
function withValidation(dataset: Dataset, config: ExperimentConfig): Dataset {
  const options = config.data.validation;
  if (!options) return dataset;
  if (dataset.validation) {
    throw new ConfigKeyError(
      ['data', 'validation'],
      `the dataset already has its own validation split (${dataset.validationSource ?? 'from the dataset'}); ` +
        'data.validation would hold out another one from the training split.',
      "Remove data.validation, or the dataset's own validation split (validation_split / validation).",
    );
  }
  return holdOutValidation(dataset, { fraction: options.fraction, stratify: options.stratify, seed: options.seed ?? config.seed });
}

/** Loads `data.embedding` (if configured) in vocabulary order, checked against the model's `embed_size`. */
async function loadEmbedding(
  config: ExperimentConfig,
  data: PreparedData,
  context: BuildContext,
): Promise<PretrainedEmbedding | undefined> {
  if (!config.data.embedding) return undefined;
  if (!data.vocab) throw new UserError('data.embedding gives word vectors, but the dataset is not a text dataset; remove data.embedding.');
  const embedSize = config.model.embed_size;
  return buildPretrainedEmbedding(
    config.data.embedding,
    data.vocab.tokens,
    { expectedDim: typeof embedSize === 'number' ? embedSize : undefined, seed: config.seed },
    context,
  );
}

/** Releases the tensors of prepared data. */
export function disposeData(data: PreparedData): void {
  data.train.dispose();
  data.validation?.dispose();
  data.test.dispose();
}

/** Releases everything a built experiment holds. */
export function disposeBuilt(built: BuiltExperiment): void {
  built.optimizer.dispose();
  built.model.dispose();
  disposeData(built.data);
}

/** The split sizes for logs: "900 train / 100 validation (split val) / 500 test examples". */
export function describeSplits(data: PreparedData): string {
  const validation = data.validation
    ? ` / ${data.validation.count} validation${data.validationSource ? ` (${data.validationSource})` : ''}`
    : '';
  return `${data.train.count} train${validation} / ${data.test.count} test examples`;
}

/** `--dry-run` text: model summary and each parameter group with its variables. */
export function describeBuilt(built: BuiltExperiment): string {
  const lines: string[] = [];
  built.model.summary(100, undefined, (line: string) => lines.push(line));
  const record = built.data.runRecord;
  const details = record?.details ? `, ${record.details}` : '';
  lines.push(
    '',
    `data: ${describeSplits(built.data)}, ` +
      `${built.data.classes.length} classes (${built.data.classes.join(', ')})${details}, input shape [${built.data.inputShape.join(', ')}]`,
  );
  if (built.embedding) lines.push(describeEmbedding(built.embedding));
  lines.push(...(record?.preparation ?? []));
  lines.push('', 'parameter groups:');
  for (const group of built.plan.groups) {
    const count = group.variables.reduce((n, v) => n + v.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0);
    const how = group.trainable ? `lr ${group.lr}, weight_decay ${group.weightDecay}` : 'frozen (trainable: false)';
    lines.push(`  ${group.name}: ${how}; ${group.variables.length} variables, ${count} parameters`);
    for (const v of group.variables) lines.push(`    ${v.originalName} [${v.shape.join(', ')}]`);
  }
  if (built.plan.frozenLayers.length > 0) {
    lines.push('  frozen layers (never updated):');
    for (const v of built.plan.frozenLayers) lines.push(`    ${v.originalName} [${v.shape.join(', ')}]`);
  }
  return lines.join('\n');
}

/** The TensorFlow intra-op threads a model (its `model:` config) trains fastest with on this machine's cores, if it has a preference. */
export function modelIntraOpThreads(modelConfig: ComponentConfig): number | undefined {
  const { type, ...params } = modelConfig;
  const model = models.find(type);
  return model?.intraOpThreads?.(Value.Default(model.params, structuredClone(params)) as never, availableParallelism());
}

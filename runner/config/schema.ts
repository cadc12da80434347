import { Type, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox';
import { augmentations } from '../../components/augmentation/index.ts';
import { datasets } from '../../components/dataset/index.ts';
import { embeddings } from '../../components/embedding/index.ts';
import { models } from '../../components/model/index.ts';
import { optimizers } from '../../components/optimizer/index.ts';
import { schedules } from '../../components/schedule/index.ts';
import { tokenizers } from '../../components/tokenizer/index.ts';
import type { Registry } from '../registry.ts';
import { PATH_KEYWORD } from './path.ts';
import { SweepSchema } from './sweep-schema.ts';
import { StringEnum } from './string-enum.ts';

/** The per-kind registries whose components a config names, keyed by kind. */
export const componentKinds = {
  dataset: datasets,
  tokenizer: tokenizers,
  augmentation: augmentations,
  embedding: embeddings,
  model: models,
  optimizer: optimizers,
  schedule: schedules,
} as const;

/** A component kind (`dataset`, `model`, ...). */
export type ComponentKind = keyof typeof componentKinds;

/** A component as written in a config: its `type` and its params. */
export type ComponentConfig = { type: string } & Record<string, unknown>;

const defName = (kind: string, name: string) => `${kind}.${name}`;

/**
 * Component slots inside every component of a kind, beside its params: `optimizer.schedule`. The
 * component's builder does not see them (see `withoutNestedSlots`); they are built on their own.
 */
export const nestedSlots: Partial<Record<ComponentKind, Record<string, { kind: ComponentKind; description: string }>>> = {
  optimizer: {
    schedule: {
      kind: 'schedule',
      description: "Learning-rate schedule: scales every trainable group's rate independently (default: constant rates).",
    },
  },
};

/** A component's config keys as a JSON Schema object: its params plus the kind's nested slots (all optional). */
export function componentProperties(
  kind: string,
  component: { params: TSchema },
): { properties: Record<string, TSchema>; required?: string[] } {
  const params = component.params as TSchema & { properties: Record<string, TSchema>; required?: string[] };
  const nested = Object.entries(nestedSlots[kind as ComponentKind] ?? {}).map(([key, s]) => [
    key,
    Type.Optional(slot(s.kind, s.description)),
  ]);
  return { properties: { ...params.properties, ...Object.fromEntries(nested) }, required: params.required };
}

/** A component's config without the kind's nested slots: what its builder takes. */
export function withoutNestedSlots(kind: ComponentKind, config: ComponentConfig): ComponentConfig {
  const keys = Object.keys(nestedSlots[kind] ?? {});
  return Object.fromEntries(Object.entries(config).filter(([key]) => !keys.includes(key))) as ComponentConfig;
}

/** The JSON Schema of one component in a config: `type` plus its params and nested slots, nothing else. */
export function componentSchema(kind: string, component: { name: string; summary: string; params: TSchema }): TSchema {
  return Type.Object(
    { type: Type.Literal(component.name, { description: `${component.summary}` }), ...componentProperties(kind, component).properties },
    { additionalProperties: false, title: `${kind} ${component.name}`, description: component.summary },
  );
}

/**
 * A slot that holds one component of a kind: `type` must name a registered component, then the rest
 * must match that component's params (one `if`/`then` per component, so editors and ajv agree).
 */
function componentSlot(kind: string, registry: Registry<unknown, never>, description: string): TUnsafe<ComponentConfig> {
  const names = registry.names();
  return Type.Unsafe<ComponentConfig>({
    type: 'object',
    description: `${description} One of: ${names.join(', ')}.`,
    required: ['type'],
    properties: { type: { type: 'string', enum: names, description: `Which registered ${kind}.` } },
    allOf: names.map((name) => ({
      if: { type: 'object', properties: { type: { const: name } }, required: ['type'] },
      then: { $ref: `#/$defs/${defName(kind, name)}` },
    })),
  });
}

/** `$defs` holding the schema of every registered component of `kinds` (default: all kinds). */
export function componentDefinitions(kinds = Object.keys(componentKinds) as ComponentKind[]): Record<string, TSchema> {
  const defs: Record<string, TSchema> = {};
  for (const kind of kinds) {
    for (const component of (componentKinds[kind] as Registry<unknown, never>).all()) {
      defs[defName(kind, component.name)] = componentSchema(kind, component);
    }
  }
  return defs;
}

const slot = (kind: ComponentKind, description: string) =>
  componentSlot(kind, componentKinds[kind] as unknown as Registry<unknown, never>, description);

/** `data:` — what to train on and how to turn it into tensors (its slots list the components registered now). */
const dataSchema = () =>
  Type.Object(
    {
      dataset: slot('dataset', 'The dataset: its splits are loaded (train, test and its own validation split if it has one).'),
      tokenizer: Type.Optional(slot('tokenizer', 'How texts become tokens (text datasets; default whitespace).')),
      vocab: Type.Object(
        {
          min_freq: Type.Integer({ minimum: 1, default: 1, description: 'Tokens seen fewer times in training are <unk>.' }),
          max_size: Type.Optional(Type.Integer({ minimum: 3, description: 'Keep at most this many entries (specials included).' })),
        },
        { additionalProperties: false, default: {}, description: 'Vocabulary built from the training split; <pad> = 0, <unk> = 1.' },
      ),
      embedding: Type.Optional(
        slot(
          'embedding',
          "Pretrained word vectors (e.g. GloVe) for the vocabulary: the model's embedding layers start from them; " +
            'the oov count is logged. Text datasets only.',
        ),
      ),
      validation: Type.Optional(
        Type.Object(
          {
            fraction: Type.Number({
              exclusiveMinimum: 0,
              exclusiveMaximum: 1,
              default: 0.1,
              description: 'Share of the training examples held out (ceil(fraction × count), as scikit-learn rounds test_size).',
            }),
            stratify: Type.Boolean({
              default: true,
              description: 'Each class keeps its share (rounded) in both parts, like stratify=y; false: a plain seeded random hold-out.',
            }),
            seed: Type.Optional(Type.Integer({ description: "Seed of the hold-out (default: the experiment's seed)." })),
          },
          {
            additionalProperties: false,
            description:
              'Hold out a validation split from the training split, as scikit-learn train_test_split(test_size=fraction, ' +
              'random_state=seed, stratify=y) does: seeded, by default stratified, the same examples on every run with the ' +
              'same seed and data (unlike Keras validation_split, which takes the last examples). The vocabulary is built ' +
              'from the remaining training examples only; validation images get the evaluation preprocessing, never the ' +
              'random augmentation. Not allowed when the dataset has its own validation split (validation_split, validation).',
          },
        ),
      ),
      max_len: Type.Integer({
        minimum: 1,
        maximum: 100_000,
        default: 500,
        description: 'Every text is truncated or padded (at the end) to this many tokens.',
      }),
      augmentation: Type.Array(slot('augmentation', 'One augmentation or preprocessing step.'), {
        default: [],
        description:
          'Ordered steps applied to batches. Random steps (random_*, color_jitter; text: token_dropout, random_swap, random_mask) ' +
          'run on training batches only, seeded by `seed`; deterministic image steps (resize, center_crop, normalize) run on ' +
          'both splits unless their apply_to says train or test.',
      }),
      batch_size: Type.Integer({ minimum: 1, default: 64, description: 'Training batch size.' }),
      eval_batch_size: Type.Optional(Type.Integer({ minimum: 1, description: 'Evaluation batch size (default: 4 × batch_size).' })),
    },
    { additionalProperties: false, description: 'What to train on and how to turn it into tensors.' },
  );

/** `data:` as the built-in components make it. */
export const DataSchema = dataSchema();

/** `train:` — the loop. */
export const TrainSchema = Type.Object(
  {
    epochs: Type.Integer({ minimum: 1, default: 5, description: 'Passes over the training split.' }),
    device: StringEnum(['auto', 'cpu', 'gpu'], {
      default: 'auto',
      description: 'auto: the GPU when the native GPU backend sees one, else the native CPU backend, else pure JS.',
    }),
    shuffle: Type.Boolean({ default: true, description: 'Shuffle the training split every epoch (seeded).' }),
    log_every_steps: Type.Integer({ minimum: 1, default: 10, description: 'Log training loss/accuracy every this many steps.' }),
    max_steps_per_epoch: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Stop each epoch early after this many steps (smoke tests).' }),
    ),
    save_model: Type.Boolean({ default: true, description: "Save the final model (the selected epoch's weights) to the run folder." }),
    eval_test_every_epoch: Type.Boolean({
      default: false,
      description:
        'Also evaluate the test split after every epoch (test_* metrics per epoch, as the d2l lessons print). ' +
        'Otherwise the test split is evaluated once, at the end, on the model that is kept.',
    }),
    monitor: Type.Optional(
      Type.Object(
        {
          metric: Type.String({
            minLength: 1,
            description: 'An epoch metric: val_loss, val_accuracy, train_loss, train_accuracy (test_* only with eval_test_every_epoch).',
          }),
          goal: Type.Optional(
            StringEnum(['minimize', 'maximize'], { description: 'Which way is better (default: minimize for *loss*, else maximize).' }),
          ),
        },
        {
          additionalProperties: false,
          description:
            'The metric that picks the best epoch, drives early stopping and reduce_on_plateau (default: val_loss, minimize, ' +
            'when there is a validation split).',
        },
      ),
    ),
    restore_best: Type.Optional(
      Type.Boolean({
        description:
          "Put the best epoch's weights back at the end, before the test evaluation and saving (default: true when there is a monitor).",
      }),
    ),
    early_stopping: Type.Optional(
      Type.Object(
        {
          patience: Type.Integer({ minimum: 0, default: 3, description: 'Epochs without improvement before training stops.' }),
          min_delta: Type.Number({
            minimum: 0,
            default: 0,
            description: 'Smallest change of the monitored metric that counts as improvement.',
          }),
        },
        { additionalProperties: false, description: 'Stop when the monitored metric stops improving (Keras EarlyStopping semantics).' },
      ),
    ),
  },
  { additionalProperties: false, default: {}, description: 'The training loop.' },
);

/** The options of `tracking:` when it is a mapping. */
export const TrackingOptionsSchema = Type.Object(
  {
    uri: Type.Optional(
      Type.String({ pattern: '^https?://', description: 'MLflow server (default: MLFLOW_TRACKING_URI, else a local store under runs/).' }),
    ),
    experiment: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 500,
        description: "MLflow experiment (default: MLFLOW_EXPERIMENT_NAME, else the config's name).",
      }),
    ),
    run_name: Type.Optional(Type.String({ minLength: 1, description: 'MLflow run name (default: the run id).' })),
    tags: Type.Record(Type.String({ minLength: 1, maxLength: 250 }), Type.String({ maxLength: 8000 }), {
      default: {},
      description: 'Extra tags on the MLflow run.',
    }),
    system_metrics: Type.Boolean({ default: false, description: 'Log system/ metrics (CPU %, RSS MB) every epoch.' }),
  },
  { additionalProperties: false },
);

/** Tracking options as validated (defaults applied). */
export type TrackingOptions = Static<typeof TrackingOptionsSchema>;

/**
 * `tracking:` — a mapping of options, or `false` to turn MLflow off. One schema for both (not anyOf),
 * so defaults apply and errors stay precise.
 */
export const TrackingSchema = Type.Unsafe<false | TrackingOptions>({
  ...structuredCloneSchema(TrackingOptionsSchema),
  type: ['object', 'boolean'],
  not: { const: true },
  default: {},
  description: 'MLflow tracking: a mapping of options, or false to turn it off (the run folder is still written).',
});

/** The whole experiment file, its component slots listing the components registered when it is called (plugins too). */
export const experimentSchema = () =>
  Type.Object(
    {
      name: Type.String({
        pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$',
        maxLength: 200,
        description: 'Experiment name (run folder and MLflow experiment).',
      }),
      description: Type.Optional(Type.String({ description: 'Markdown shown as the MLflow run description.' })),
      seed: Type.Integer({ default: 0, description: 'Seeds weight initialisation, dropout and shuffling: same seed, same metrics.' }),
      extends: Type.Optional(
        Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1 })], {
          description: 'Config file(s) this one is deep-merged onto, relative to this file; later keys win.',
        }),
      ),
      plugins: Type.Optional(
        Type.Array(Type.String({ minLength: 1, [PATH_KEYWORD]: true }), {
          description:
            'Plugin modules (.ts or .js, relative to this file) whose default export, definePlugin({model: [...], ...}), ' +
            'adds components; they are imported before the config is validated.',
        }),
      ),
      data: dataSchema(),
      model: slot('model', 'The network; it outputs one logit per class.'),
      optimizer: slot(
        'optimizer',
        'The optimizer, with per-parameter-group learning rates and an optional learning-rate schedule (schedule).',
      ),
      train: TrainSchema,
      tracking: TrackingSchema,
      sweep: Type.Optional(SweepSchema),
    },
    {
      additionalProperties: false,
      $id: 'https://runner.dev/schemas/experiment.schema.json',
      title: 'runner experiment',
      description: 'One experiment for `runner run`: data, model, optimizer, training loop, tracking and an optional sweep.',
    },
  );

/** The experiment schema as the built-in components make it (its static type is the config's type). */
export const ExperimentSchema = experimentSchema();

/** A validated experiment config (defaults applied, paths resolved). */
export type ExperimentConfig = Static<typeof ExperimentSchema>;

/** The complete experiment JSON Schema, with every registered component under `$defs`. */
export function experimentJsonSchema(): Record<string, unknown> {
  return optionalDefaults({
    $schema: 'http://json-schema.org/draft-07/schema#',
    ...structuredCloneSchema(experimentSchema()),
    $defs: componentDefinitions(),
  });
}

/** A plain JSON copy of a TypeBox schema (symbols dropped). */
export function structuredCloneSchema(schema: TSchema): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

/**
 * Removes keys that have a default from `required` everywhere in a JSON schema (in place): TypeBox
 * marks them required, but users may leave them out (the validator fills them in, editors must not
 * ask for them).
 */
export function optionalDefaults<T>(schema: T): T {
  if (Array.isArray(schema)) schema.forEach(optionalDefaults);
  else if (schema && typeof schema === 'object') {
    const node = schema as { properties?: Record<string, { default?: unknown }>; required?: string[] } & Record<string, unknown>;
    if (node.properties && node.required) {
      node.required = node.required.filter((key) => node.properties![key]?.default === undefined);
      if (node.required.length === 0) delete node.required;
    }
    Object.values(node).forEach(optionalDefaults);
  }
  return schema;
}

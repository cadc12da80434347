import { Type, type Static, type TUnsafe } from '@sinclair/typebox';
import { DOTTED_PATH_PATTERN } from '../common/dotted-path.ts';

/** Most trials a matrix may expand to, as in GitHub Actions (`strategy.matrix`). */
export const MATRIX_TRIAL_LIMIT = 256;
/** Most random samples per sweep. */
export const RANDOM_SAMPLE_LIMIT = 10_000;
/** Most trials a whole sweep may plan (matrix trials × random samples). */
export const SWEEP_TRIAL_LIMIT = 10_000;

/** Keys of `sweep.matrix` that are vectors: dotted config paths other than `include` and `exclude`. */
export const VECTOR_KEY_PATTERN = `^(?!(?:include|exclude)$)${DOTTED_PATH_PATTERN.slice(1)}`;

/** A string limited to `values` (a plain JSON Schema `enum`: one clear error, editor completion). */
function StringEnum<const T extends readonly string[]>(
  values: T,
  options: { description: string; default?: T[number] },
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

const EQUALITY_DOC =
  'Values are compared exactly, not as GitHub does (it converts types and ignores case): a number equals ' +
  'only the same number (YAML 1 and 1.0 are the same number), a string only the same string with the same ' +
  'case ("1" is not 1, "Adam" is not "adam", "true" is not true), null only null. Mappings compare leaf by ' +
  'leaf: keys the filter does not name are wildcards, and a null leaf also matches a missing key. A list ' +
  'matches only a list of the same length whose items match in order.';

const IncludeItemSchema = Type.Record(
  Type.String({ pattern: DOTTED_PATH_PATTERN }),
  Type.Unknown({ description: 'A value: for a matrix key, the value to match; for any other dotted config path, the value to set.' }),
  {
    minProperties: 1,
    additionalProperties: false,
    description:
      'One include item. Its keys that are matrix keys form the filter (an empty filter matches every trial); ' +
      'its other keys are extras: dotted config paths set in every trial the filter matches, in list order, so ' +
      'later items may overwrite extras added by earlier ones but never a matrix value. An item that matches ' +
      'no trial left after exclude becomes a trial of its own, with exactly its own keys. ' +
      EQUALITY_DOC,
  },
);

const ExcludeItemSchema = Type.Record(
  Type.String({ pattern: DOTTED_PATH_PATTERN }),
  Type.Unknown({ description: 'The value of this matrix key that excluded combinations have.' }),
  {
    minProperties: 1,
    additionalProperties: false,
    description:
      'One exclude item: matrix keys and values. A combination that matches every key of the item is dropped; ' +
      'matrix keys the item does not name match anything. Every key must be a matrix key. ' +
      EQUALITY_DOC,
  },
);

/** The `sweep.matrix` mapping: vectors (dotted config path → list of values) plus `include` and `exclude`. */
export interface MatrixDefinition {
  /** Items that add extra values to matching trials, or add trials of their own. */
  include?: Record<string, unknown>[];
  /** Items that drop matching combinations before `include` runs. */
  exclude?: Record<string, unknown>[];
  /** A vector: the values to try for one dotted config path. */
  [path: string]: unknown[] | undefined;
}

const MatrixSchema = Type.Unsafe<MatrixDefinition>(
  Type.Object(
    {
      include: Type.Optional(
        Type.Array(IncludeItemSchema, {
          description:
            'Applied after exclude, to the remaining combinations only (as in GitHub Actions). For each trial, ' +
            'every item is tested in list order; a matching item adds its extras. Items that match no trial are ' +
            'appended as trials of their own, after the product, in list order; appended trials are not matched ' +
            'by later items and not subject to exclude, so include can add back an excluded combination.',
        }),
      ),
      exclude: Type.Optional(
        Type.Array(ExcludeItemSchema, {
          description: 'Combinations to leave out of the product. Runs before include.',
        }),
      ),
    },
    {
      additionalProperties: false,
      patternProperties: {
        [VECTOR_KEY_PATTERN]: Type.Array(Type.Unknown({ description: 'One value to try.' }), {
          description:
            'A vector: the values to try for this dotted config path (e.g. optimizer.lr: [0.01, 0.001] or ' +
            'model.kernel_sizes: [[3, 4, 5], [2, 3, 4]]). Paths into lists use indices: model.kernel_sizes.0.',
        }),
      },
      description:
        'A matrix of trials, with GitHub Actions strategy.matrix rules. Keys are dotted config paths whose values ' +
        'are lists (vectors); every combination is a trial, in odometer order: the first key changes slowest. ' +
        'exclude drops combinations first, then include adds extra values or trials. With no vectors or an empty ' +
        `vector only include items make trials. At most ${MATRIX_TRIAL_LIMIT} trials. A value set by a trial ` +
        'replaces the config value at that path; a deeper path is applied after a shallower one, so ' +
        'optimizer.momentum refines a whole optimizer mapping swept under optimizer.',
    },
  ),
);

const RandomParamSchema = Type.Object(
  {
    distribution: StringEnum(['uniform', 'log_uniform', 'int_uniform', 'choice'] as const, {
      description:
        'How values are drawn. uniform: any number from min (included) to max. log_uniform: uniform in log ' +
        'space between min and max (both > 0), so each decade gets equal share: for learning rates and other ' +
        'scales. int_uniform: an integer from min to max, both included. choice: one of values, each equally likely.',
    }),
    min: Type.Optional(Type.Number({ description: 'Lower bound (uniform, log_uniform, int_uniform). Must be less than max.' })),
    max: Type.Optional(Type.Number({ description: 'Upper bound (uniform, log_uniform, int_uniform).' })),
    values: Type.Optional(
      Type.Array(Type.Unknown({ description: 'One candidate value (any YAML value, mappings and lists included).' }), {
        minItems: 1,
        description: 'The candidates of a choice distribution.',
      }),
    ),
  },
  { additionalProperties: false, description: 'The distribution one dotted config path is drawn from.' },
);

const RandomSchema = Type.Object(
  {
    samples: Type.Integer({
      minimum: 1,
      maximum: RANDOM_SAMPLE_LIMIT,
      description: 'How many parameter sets to draw (trials with combine: append; per matrix trial with combine: product).',
    }),
    seed: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 4294967295,
        default: 0,
        description:
          'Seed of the sampler (0 to 2^32 - 1, default 0): the same seed gives the same trials on every machine. ' +
          'Each value depends only on the seed, its path and its sample number, so raising samples keeps the ' +
          'earlier samples (finished trials are not re-run on resume) and adding a parameter leaves the others as they were.',
      }),
    ),
    params: Type.Record(Type.String({ pattern: DOTTED_PATH_PATTERN }), RandomParamSchema, {
      minProperties: 1,
      additionalProperties: false,
      description: 'Dotted config path → distribution. With combine: product, must not repeat a path the matrix sets.',
    }),
    combine: Type.Optional(
      StringEnum(['append', 'product'] as const, {
        default: 'append',
        description:
          'How random trials join matrix trials. append (default): the random trials run after the matrix trials, ' +
          'each setting only the random params (so both may sweep the same path: a grid first, then random ' +
          'exploration). product: every matrix trial is run with every sample (matrix trials × samples, matrix ' +
          'order outermost) and every matrix trial sees the same samples, so matrix choices are compared on equal ' +
          'draws; then random params must not repeat a matrix path. Without a matrix it has no effect.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'A seeded random search, instead of or after the matrix: alone it makes samples trials; with a matrix see combine.',
  },
);

const MetricSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, description: 'Name of the metric that ranks trials, as logged by a run (e.g. test_accuracy).' }),
    goal: StringEnum(['maximize', 'minimize'] as const, {
      description: 'Whether a larger (maximize) or smaller (minimize) value is better.',
    }),
  },
  { additionalProperties: false, description: 'The metric that picks the best trial and sorts the leaderboard.' },
);

/** Schema of the `sweep:` block of an experiment config. */
export const SweepSchema = Type.Object(
  {
    mode: Type.Optional(
      StringEnum(['product', 'zip'] as const, {
        default: 'product',
        description:
          'How matrix vectors combine. product (default): every combination, as in GitHub Actions. zip: paired ' +
          'values, the i-th trial takes the i-th value of every vector (all vectors must have the same length); ' +
          'exclude and include then apply as usual. Has no effect on random.',
      }),
    ),
    matrix: Type.Optional(MatrixSchema),
    random: Type.Optional(RandomSchema),
    metric: Type.Optional(MetricSchema),
    max_parallel: Type.Optional(Type.Integer({ minimum: 1, default: 1, description: 'Most trials running at the same time (default 1).' })),
    fail_fast: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          'true: the first failed trial cancels the others. false (default, unlike GitHub Actions): the others ' +
          'keep running and failures are reported at the end, because a trial in a sweep usually fails for its ' +
          'own parameters (a learning rate that diverges), which says nothing about the other trials.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Runs the experiment once per trial, each with some config values replaced. Needs a matrix, a random ' +
      'search, or both. Each trial runs the config with its values set and without this sweep block.',
  },
);

/** A `sweep:` block as written (defaults not yet applied). */
export type SweepDefinition = Static<typeof SweepSchema>;
/** The `sweep.random` block. */
export type RandomDefinition = Static<typeof RandomSchema>;
/** One `sweep.random.params` entry. */
export type RandomParam = Static<typeof RandomParamSchema>;
/** The `sweep.metric` block. */
export type MetricDefinition = Static<typeof MetricSchema>;
/** How matrix vectors combine. */
export type MatrixMode = 'product' | 'zip';

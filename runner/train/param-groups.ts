import type * as tf from '@tensorflow/tfjs';
import { Type, type Static } from '@sinclair/typebox';
import { ConfigError, type ConfigIssue } from '../config/issues.ts';

/** One parameter group of an optimizer: which variables, and how they learn. */
export const ParamGroupSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, description: 'Label in logs and metrics (default: group<index>).' })),
    match: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      description: "Regular expressions tested against variable names such as 'dense/kernel'; any match joins the group.",
    }),
    lr: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Learning rate of this group (instead of lr_mult).' })),
    lr_mult: Type.Optional(
      Type.Number({ minimum: 0, description: "Learning rate as a multiple of the optimizer's lr (e.g. 10 for a new head)." }),
    ),
    weight_decay: Type.Optional(Type.Number({ minimum: 0, description: "Weight decay of this group (default: the optimizer's)." })),
    trainable: Type.Optional(Type.Boolean({ description: 'false freezes the group: its variables are never updated.' })),
  },
  { additionalProperties: false },
);

/** `param_groups` as written in a config. */
export type ParamGroupConfig = Static<typeof ParamGroupSchema>;

/** The `param_groups` option shared by every optimizer. */
export const ParamGroupsSchema = Type.Array(ParamGroupSchema, {
  default: [],
  description: 'Ordered parameter groups. A variable that matches no group is in the default group; one that matches two is an error.',
});

/** A resolved group: its variables and hyper-parameters. */
export interface ResolvedGroup {
  name: string;
  variables: tf.LayerVariable[];
  lr: number;
  weightDecay: number;
  trainable: boolean;
}

/** Result of resolving groups: the groups (default first) and frozen-by-layer variables. */
export interface ParamGroupPlan {
  groups: ResolvedGroup[];
  /** Variables of layers built non-trainable (never updated, listed for `--dry-run`). */
  frozenLayers: tf.LayerVariable[];
  warnings: ConfigIssue[];
}

/** Each group's `match` patterns compiled (undefined where one is not a valid regex: an error pushed onto `errors`). */
export function compileParamGroups(groups: ParamGroupConfig[], errors: ConfigIssue[]): (RegExp | undefined)[][] {
  return groups.map((group, g) =>
    group.match.map((pattern, p) => {
      try {
        return new RegExp(pattern);
      } catch (error) {
        errors.push({
          path: ['optimizer', 'param_groups', g, 'match', p],
          message: `not a valid regular expression: ${(error as Error).message}`,
        });
        return undefined;
      }
    }),
  );
}

/**
 * Assigns every trainable variable of `model` to a group. Patterns are tested against the
 * variable's stable name (e.g. `conv_k3_0/kernel`). Errors (bad regex, a variable in two groups)
 * throw a ConfigError located at `optimizer.param_groups`; a pattern that matches nothing is a warning.
 */
export function resolveParamGroups(
  model: tf.LayersModel,
  options: { lr: number; weightDecay: number; groups: ParamGroupConfig[] },
): ParamGroupPlan {
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const trainable = model.trainableWeights;
  const trainableNames = new Set(trainable.map((v) => v.originalName));
  const frozenLayers = model.weights.filter((v) => !trainableNames.has(v.originalName));
  const compiled = compileParamGroups(options.groups, errors);
  const defaults: ResolvedGroup = { name: 'default', variables: [], lr: options.lr, weightDecay: options.weightDecay, trainable: true };
  const groups: ResolvedGroup[] = options.groups.map((group, g) => ({
    name: group.name ?? `group${g}`,
    variables: [],
    lr: group.lr ?? options.lr * (group.lr_mult ?? 1),
    weightDecay: group.weight_decay ?? options.weightDecay,
    trainable: group.trainable ?? true,
  }));
  const patternHits = compiled.map((patterns) => patterns.map(() => 0));
  for (const variable of trainable) {
    const owners: number[] = [];
    compiled.forEach((patterns, g) => {
      let hit = false;
      patterns.forEach((regex, p) => {
        if (regex?.test(variable.originalName)) {
          patternHits[g]![p]!++;
          hit = true;
        }
      });
      if (hit) owners.push(g);
    });
    if (owners.length > 1) {
      errors.push({
        path: ['optimizer', 'param_groups', owners[1]!, 'match'],
        message: `variable '${variable.originalName}' matches groups ${owners.map((g) => groups[g]!.name).join(' and ')}; a variable may belong to one group only.`,
        hint: 'Make the patterns more specific (anchor them with ^ and $).',
      });
    }
    (owners.length > 0 ? groups[owners[0]!]! : defaults).variables.push(variable);
  }
  options.groups.forEach((group, g) => {
    const earlier = [defaults, ...groups.slice(0, g)].find((other) => other.name === groups[g]!.name);
    if (earlier) {
      errors.push({
        path: ['optimizer', 'param_groups', g, 'name'],
        message: `group name '${earlier.name}' is used twice; names label the groups' rates and metrics (lr/<group>).`,
      });
    }
    if (group.lr !== undefined && group.lr_mult !== undefined) {
      errors.push({ path: ['optimizer', 'param_groups', g], message: 'sets both lr and lr_mult; give one of them.' });
    }
    patternHits[g]!.forEach((hits, p) => {
      if (hits === 0 && compiled[g]![p]) {
        warnings.push({
          path: ['optimizer', 'param_groups', g, 'match', p],
          message: `pattern '${group.match[p]}' matches no trainable variable.`,
          hint: `Variables: ${[...trainableNames].slice(0, 12).join(', ')}${trainableNames.size > 12 ? ', ...' : ''}`,
          severity: 'warning',
        });
      }
    });
  });
  if (errors.length > 0) throw new ConfigError(errors);
  return { groups: [defaults, ...groups], frozenLayers, warnings };
}

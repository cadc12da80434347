/**
 * Seeded random search. Every value is a pure function of (seed, dotted path, sample number), computed
 * with 32-bit integer arithmetic (same on every machine), so a sweep can be resumed and extended.
 */
import { uniformAt } from '../common/random.ts';
import { describeValue, throwIfIssues, type SweepIssue, type YamlPath } from './errors.ts';
import { pathProblem } from '../common/dotted-path.ts';
import { RANDOM_SAMPLE_LIMIT, type RandomDefinition, type RandomParam } from '../config/sweep-schema.ts';
import { isMapping, setOwn, type PlannedTrial, type Trial } from './trial.ts';

const DISTRIBUTIONS = ['uniform', 'log_uniform', 'int_uniform', 'choice'] as const;
const PARAM_KEYS = ['distribution', 'min', 'max', 'values'];
const RANDOM_KEYS = ['samples', 'seed', 'params', 'combine'];

/** The value of a distribution at uniform draw `u` in [0, 1). */
export function drawValue(param: RandomParam, u: number): unknown {
  const min = param.min!;
  const max = param.max!;
  switch (param.distribution) {
    case 'uniform':
      return Math.min(min * (1 - u) + max * u, max); // no overflow for wide ranges
    case 'log_uniform': {
      const low = Math.log(min);
      return Math.min(Math.max(Math.exp(low + u * (Math.log(max) - low)), min), max);
    }
    case 'int_uniform':
      return min + Math.floor(u * (max - min + 1));
    case 'choice': {
      const values = param.values!;
      return structuredClone(values[Math.floor(u * values.length)]);
    }
  }
}

/** Problems in a `sweep.random` block (shape, bounds, distributions), each with its config path. */
export function randomIssues(random: unknown, base: YamlPath = ['sweep', 'random']): SweepIssue[] {
  const issues: SweepIssue[] = [];
  if (!isMapping(random)) {
    return [
      { path: base, message: `must be a mapping with samples, params and optionally seed and combine, not ${describeValue(random)}.` },
    ];
  }
  for (const key of Object.keys(random)) {
    if (!RANDOM_KEYS.includes(key))
      issues.push({ path: [...base, key], message: `unknown key; sweep.random takes ${RANDOM_KEYS.join(', ')}.` });
  }
  const { samples, seed, params, combine } = random;
  if (combine !== undefined && combine !== 'append' && combine !== 'product') {
    issues.push({ path: [...base, 'combine'], message: `must be append or product, not ${describeValue(combine)}.` });
  }
  if (!Number.isInteger(samples) || (samples as number) < 1 || (samples as number) > RANDOM_SAMPLE_LIMIT) {
    issues.push({
      path: [...base, 'samples'],
      message: `must be a whole number from 1 to ${RANDOM_SAMPLE_LIMIT}, not ${describeValue(samples)}.`,
    });
  }
  if (seed !== undefined && (!Number.isInteger(seed) || (seed as number) < 0 || (seed as number) > 4294967295)) {
    issues.push({ path: [...base, 'seed'], message: `must be a whole number from 0 to 4294967295, not ${describeValue(seed)}.` });
  }
  if (!isMapping(params) || Object.keys(params).length === 0) {
    issues.push({
      path: [...base, 'params'],
      message: `must be a non-empty mapping of dotted config paths to distributions, e.g. optimizer.lr: {distribution: log_uniform, min: 1.0e-4, max: 1.0e-2}; got ${describeValue(params)}.`,
    });
    return issues;
  }
  for (const [path, param] of Object.entries(params)) {
    const problem = pathProblem(path);
    if (problem !== null) issues.push({ path: [...base, 'params', path], message: problem });
    issues.push(...paramIssues(param, [...base, 'params', path]));
  }
  return issues;
}

function paramIssues(param: unknown, at: YamlPath): SweepIssue[] {
  if (!isMapping(param))
    return [{ path: at, message: `must be a mapping like {distribution: uniform, min: 0.2, max: 0.6}, not ${describeValue(param)}.` }];
  const issues: SweepIssue[] = [];
  for (const key of Object.keys(param)) {
    if (!PARAM_KEYS.includes(key))
      issues.push({ path: [...at, key], message: `unknown key; a distribution takes ${PARAM_KEYS.join(', ')}.` });
  }
  const { distribution, min, max, values } = param;
  if (!(DISTRIBUTIONS as readonly unknown[]).includes(distribution)) {
    issues.push({
      path: [...at, 'distribution'],
      message: `must be one of ${DISTRIBUTIONS.join(', ')}, not ${describeValue(distribution)}.`,
    });
    return issues;
  }
  if (distribution === 'choice') {
    if (!Array.isArray(values) || values.length === 0) {
      issues.push({
        path: [...at, 'values'],
        message: `a choice distribution needs values: a non-empty list of candidates, e.g. values: [adam, sgd]; got ${describeValue(values)}.`,
      });
    }
    for (const key of ['min', 'max'] as const) {
      if (key in param) issues.push({ path: [...at, key], message: `a choice distribution takes values only; remove ${key}.` });
    }
    return issues;
  }
  if ('values' in param)
    issues.push({ path: [...at, 'values'], message: `values belongs to choice; a ${distribution} distribution takes min and max.` });
  const integer = distribution === 'int_uniform';
  for (const [key, bound] of [
    ['min', min],
    ['max', max],
  ] as const) {
    const ok = typeof bound === 'number' && (integer ? Number.isSafeInteger(bound) : Number.isFinite(bound));
    if (!ok)
      issues.push({
        path: [...at, key],
        message: `a ${distribution} distribution needs ${key} as ${integer ? 'a whole number' : 'a finite number'}; got ${describeValue(bound)}.`,
      });
  }
  if (issues.length > 0) return issues;
  if ((min as number) >= (max as number)) {
    issues.push({
      path: [...at, 'min'],
      message: `min (${min}) must be less than max (${max}); to keep a value fixed, set it in the config instead of sweeping it.`,
    });
  } else if (distribution === 'log_uniform' && (min as number) <= 0) {
    issues.push({
      path: [...at, 'min'],
      message: `a log_uniform distribution needs min > 0 (its logarithm is taken), got ${min}; use uniform for ranges that include 0.`,
    });
  }
  return issues;
}

/** The random-search trials: `samples` parameter sets in sample order, params in declaration order. */
export function sampleRandom(random: RandomDefinition, base: YamlPath = ['sweep', 'random']): PlannedTrial[] {
  throwIfIssues(randomIssues(random, base));
  const seed = random.seed ?? 0;
  const trials: PlannedTrial[] = [];
  for (let sample = 0; sample < random.samples; sample++) {
    const values: Trial = {};
    const sources: Record<string, YamlPath> = {};
    for (const [path, param] of Object.entries(random.params)) {
      setOwn(values, path, drawValue(param, uniformAt(seed, path, sample)));
      sources[path] = [...base, 'params', path];
    }
    trials.push({ values, sources });
  }
  return trials;
}

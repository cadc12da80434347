/** Planning a sweep's trials and turning a trial into the config of one run. */
import { UserError } from '../errors.ts';
import { canonicalHash } from '../common/hash.ts';
import { describeValue, SweepDefinitionError, throwIfIssues, type SweepIssue, type YamlPath } from './errors.ts';
import { expandMatrixPlanned } from './matrix.ts';
import { pathProblem, splitPath } from '../common/dotted-path.ts';
import { sampleRandom } from './random.ts';
import { SWEEP_TRIAL_LIMIT, type SweepDefinition } from '../config/sweep-schema.ts';
import { isMapping, setOwn, type PlannedTrial, type Trial } from './trial.ts';

export { canonicalJson } from '../common/hash.ts';
export type { Trial, PlannedTrial } from './trial.ts';

/** The trials of a sweep, in run order. Throws SweepDefinitionError with every problem found. */
export function planTrials(sweep: SweepDefinition, base: YamlPath = ['sweep']): Trial[] {
  return planTrialsPlanned(sweep, base).map((trial) => trial.values);
}

/**
 * Like `planTrials`, with the config location of every value. The matrix alone gives its trials; random
 * alone gives `samples` trials. With both, `random.combine` decides: append (default) runs the random
 * trials after the matrix trials; product combines every matrix trial with every sample, matrix order
 * outermost (trial k is matrix trial floor(k / samples) with sample k % samples).
 */
export function planTrialsPlanned(sweep: SweepDefinition, base: YamlPath = ['sweep']): PlannedTrial[] {
  if (!isMapping(sweep))
    throwIfIssues([{ path: base, message: `must be a mapping with a matrix, a random search or both, not ${describeValue(sweep)}.` }]);
  if (sweep.matrix === undefined && sweep.random === undefined) {
    throwIfIssues([{ path: base, message: 'a sweep needs a matrix, a random search (random), or both; it has neither.' }]);
  }
  const issues: SweepIssue[] = [];
  const collect = <T>(plan: () => T): T | undefined => {
    try {
      return plan();
    } catch (error) {
      if (!(error instanceof SweepDefinitionError)) throw error;
      issues.push(...error.issues);
      return undefined;
    }
  };
  const matrix =
    sweep.matrix === undefined
      ? undefined
      : collect(() => expandMatrixPlanned(sweep.matrix, { path: [...base, 'matrix'], mode: sweep.mode ?? 'product' }));
  const random = sweep.random === undefined ? undefined : collect(() => sampleRandom(sweep.random!, [...base, 'random']));
  throwIfIssues(issues);

  let trials: PlannedTrial[];
  if (matrix !== undefined && random !== undefined && sweep.random!.combine === 'product') {
    const matrixPaths = new Set(matrix.flatMap((trial) => Object.keys(trial.values)));
    for (const path of Object.keys(sweep.random!.params)) {
      if (matrixPaths.has(path)) {
        issues.push({
          path: [...base, 'random', 'params', path],
          message: `'${path}' is also set by the matrix; with combine: product a path takes its values from the matrix or from random, not both (combine: append runs random trials after the matrix ones, and may repeat paths).`,
        });
      }
    }
    throwIfIssues(issues);
    trials = matrix.flatMap((m) => random.map((r) => combine(m, r)));
  } else {
    trials = [...(matrix ?? []), ...(random ?? [])];
  }

  if (trials.length === 0) {
    throwIfIssues([
      {
        path: [...base, 'matrix'],
        message:
          'the sweep makes no trials: the matrix has no vectors or an empty one (an empty list makes the product empty, as in GitHub Actions), and no include item adds a trial.',
      },
    ]);
  }
  if (trials.length > SWEEP_TRIAL_LIMIT) {
    throwIfIssues([
      {
        path: base,
        message: `the sweep plans ${trials.length} trials, more than the limit of ${SWEEP_TRIAL_LIMIT}; use fewer matrix values or random samples.`,
      },
    ]);
  }
  return trials;
}

function combine(first: PlannedTrial, second: PlannedTrial): PlannedTrial {
  const values: Trial = {};
  for (const part of [first.values, second.values]) {
    for (const [key, value] of Object.entries(part)) setOwn(values, key, structuredClone(value));
  }
  return { values, sources: { ...first.sources, ...second.sources } };
}

/**
 * The config of one trial: a deep copy of `config` without its `sweep` block (a trial is one run, and its
 * hash must not change when the sweep itself is edited, which resume relies on), with every path of the
 * trial set. Shallower paths are set before deeper ones (stable otherwise), so `optimizer.momentum` refines
 * a whole `optimizer` mapping whatever their order. List items are addressed by index (`model.kernel_sizes.0`,
 * existing items only); missing or null mappings on the way are created (the config validator rejects
 * unknown keys afterwards). `sources` (from `planTrialsPlanned`) puts errors at the YAML node of the value.
 */
export function applyTrial<T extends object>(config: T, trial: Trial, sources: Record<string, YamlPath> = {}): Omit<T, 'sweep'> {
  if (!isMapping(config)) throw new UserError(`A sweep trial can only be applied to a config mapping, not ${describeValue(config)}.`);
  const copy = structuredClone(config) as Record<string, unknown>;
  delete copy.sweep;
  const entries = Object.entries(trial).sort(([a], [b]) => splitPath(a).length - splitPath(b).length);
  const issues: SweepIssue[] = [];
  for (const [path, value] of entries) {
    const problem = pathProblem(path) ?? setPath(copy, path, structuredClone(value));
    if (problem !== null) {
      issues.push({ path: sources[path] ?? ['sweep'], message: `trial ${trialLabel(trial)} cannot set ${path}: ${problem}` });
    }
  }
  throwIfIssues(issues);
  return copy as Omit<T, 'sweep'>;
}

/** Sets a dotted path in `root`; returns why it cannot, or null. */
function setPath(root: Record<string, unknown>, path: string, value: unknown): string | null {
  const segments = splitPath(path);
  let node: unknown = root;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    const last = i === segments.length - 1;
    const where = segments.slice(0, i).join('.');
    if (Array.isArray(node)) {
      const index = /^(0|[1-9][0-9]*)$/.test(segment) ? Number(segment) : -1;
      if (index < 0 || index >= node.length) {
        return node.length === 0
          ? `${where} is an empty list, so it has no item ${segment}.`
          : `${where} is a list of ${node.length} items, so ${segment} must be an index from 0 to ${node.length - 1}.`;
      }
      if (last) node[index] = value;
      else if (node[index] === null || node[index] === undefined) node[index] = {};
      node = node[index];
    } else if (isMapping(node)) {
      if (last) setOwn(node, segment, value);
      else if (!Object.hasOwn(node, segment) || node[segment] === null || node[segment] === undefined) setOwn(node, segment, {});
      node = node[segment];
    } else {
      return `${where} is ${describeValue(node)}, not a mapping or a list.`;
    }
  }
  return null;
}

/**
 * A short label for people, e.g. `optimizer.lr=0.01 model.kernel_sizes=[3,4,5] optimizer.name=adam`.
 * Strings that could be read as another type are quoted ("1", "true"); numbers with more than 6
 * significant digits (random draws) are shown with 4; long values are cut with an ellipsis.
 */
export function trialLabel(trial: Trial): string {
  const parts = Object.entries(trial).map(([path, value]) => `${path}=${shorten(formatValue(value))}`);
  return parts.length === 0 ? '(no values)' : parts.join(' ');
}

function formatValue(value: unknown): string {
  if (typeof value === 'number') {
    if (Number.isInteger(value) || Number(value.toPrecision(6)) === value) return String(value);
    return String(Number(value.toPrecision(4)));
  }
  if (typeof value === 'string') {
    return /^[A-Za-z_][A-Za-z0-9_.+\-/:@]*$/.test(value) && !['true', 'false', 'null'].includes(value) ? value : JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(formatValue).join(',')}]`;
  if (isMapping(value))
    return `{${Object.entries(value)
      .map(([key, item]) => `${key}:${formatValue(item)}`)
      .join(',')}}`;
  return String(value);
}

function shorten(text: string): string {
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

/** Stable hash of a resolved config: sha256 (hex) of its canonical JSON, the same whatever the key order. */
export function trialHash(resolvedConfig: unknown): string {
  return canonicalHash(resolvedConfig);
}

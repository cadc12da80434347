/**
 * Matrix expansion with GitHub Actions' `strategy.matrix` rules (see the docs of `MatrixSchema`):
 * odometer product (first key slowest), then exclude, then include, then unmatched includes appended.
 */
import { describeValue, throwIfIssues, type SweepIssue, type YamlPath } from './errors.ts';
import { matchesFilter } from './equality.ts';
import { isAncestorPath, pathProblem } from '../common/dotted-path.ts';
import { MATRIX_TRIAL_LIMIT, type MatrixMode } from '../config/sweep-schema.ts';
import { isMapping, setOwn, type PlannedTrial, type Trial } from './trial.ts';

/** Most combinations enumerated before exclude; beyond it the matrix is refused without enumerating. */
export const MATRIX_PRODUCT_LIMIT = 100_000;

/** Options of `expandMatrix`. */
export interface ExpandMatrixOptions {
  /** Location of the matrix in the config, for error paths (default ['sweep', 'matrix']). */
  path?: YamlPath;
  /** product (default): every combination; zip: the i-th values of all vectors together. */
  mode?: MatrixMode;
}

interface Vector {
  name: string;
  values: unknown[];
}

interface IncludeItem {
  index: number;
  item: Record<string, unknown>;
  filter: [string, unknown][];
  extras: [string, unknown][];
}

interface ParsedMatrix {
  vectors: Vector[];
  excludes: Record<string, unknown>[];
  includes: IncludeItem[];
}

/** The trials of a matrix, in GitHub Actions order. Throws SweepDefinitionError on a bad matrix. */
export function expandMatrix(matrix: unknown, options: ExpandMatrixOptions = {}): Trial[] {
  return expandMatrixPlanned(matrix, options).map((trial) => trial.values);
}

/** Like `expandMatrix`, with the config location of every value (for diagnostics on a trial's config). */
export function expandMatrixPlanned(matrix: unknown, options: ExpandMatrixOptions = {}): PlannedTrial[] {
  const base = options.path ?? ['sweep', 'matrix'];
  const mode = options.mode ?? 'product';
  const parsed = parseMatrix(matrix, base, mode);
  const { vectors, excludes, includes } = parsed;

  const count = combinationCount(vectors, mode);
  if (count > MATRIX_PRODUCT_LIMIT) {
    throwIfIssues([{ path: base, message: tooMany(`${count} combinations before exclude`) }]);
  }

  // Cross product (or zip), then exclude.
  const survivors: PlannedTrial[] = [];
  for (let index = 0; index < count; index++) {
    const values: Trial = {};
    const sources: Record<string, YamlPath> = {};
    let block = count;
    for (const vector of vectors) {
      let position = index;
      if (mode === 'product') {
        block /= vector.values.length;
        position = Math.floor(index / block) % vector.values.length;
      }
      setOwn(values, vector.name, structuredClone(vector.values[position]));
      sources[vector.name] = [...base, vector.name, position];
    }
    if (excludes.some((item) => matchesAll(Object.entries(item), values))) continue;
    survivors.push({ values, sources });
  }

  // Include: extras into every matching survivor, in list order; later extras overwrite earlier ones.
  const matched = includes.map(() => false);
  for (const trial of survivors) {
    includes.forEach((include, i) => {
      if (!matchesAll(include.filter, trial.values)) return;
      matched[i] = true;
      for (const [key, value] of include.extras) {
        setOwn(trial.values, key, structuredClone(value));
        trial.sources[key] = [...base, 'include', include.index, key];
      }
    });
  }

  // Unmatched include items become trials of exactly their own keys, in list order.
  const appended: PlannedTrial[] = [];
  includes.forEach((include, i) => {
    if (matched[i]) return;
    const values: Trial = {};
    const sources: Record<string, YamlPath> = {};
    for (const [key, value] of Object.entries(include.item)) {
      setOwn(values, key, structuredClone(value));
      sources[key] = [...base, 'include', include.index, key];
    }
    appended.push({ values, sources });
  });

  const trials = [...survivors, ...appended];
  if (trials.length > MATRIX_TRIAL_LIMIT) {
    throwIfIssues([{ path: base, message: tooMany(`${trials.length} trials`) }]);
  }
  return trials;
}

/** True when every (key, filter value) pair matches the trial's value at that key. */
function matchesAll(filter: [string, unknown][], values: Trial): boolean {
  return filter.every(([key, expected]) => matchesFilter(expected, values[key]));
}

/** Number of combinations before exclude: 0 without vectors (only include items make trials then). */
function combinationCount(vectors: Vector[], mode: MatrixMode): number {
  if (vectors.length === 0) return 0;
  if (mode === 'zip') return vectors[0]!.values.length;
  return vectors.reduce((product, vector) => product * vector.values.length, 1);
}

function tooMany(what: string): string {
  return (
    `the matrix expands to ${what}, more than the limit of ${MATRIX_TRIAL_LIMIT} trials (GitHub Actions' limit ` +
    'for a matrix). Use fewer values, exclude combinations, split the sweep into several files, or sample the ' +
    'space with sweep.random instead.'
  );
}

/** Checks the shape of a matrix and splits it into vectors, exclude items and include items. */
function parseMatrix(matrix: unknown, base: YamlPath, mode: unknown): ParsedMatrix {
  const issues: SweepIssue[] = [];
  const parsed: ParsedMatrix = { vectors: [], excludes: [], includes: [] };
  if (mode !== 'product' && mode !== 'zip') {
    issues.push({ path: [...base.slice(0, -1), 'mode'], message: `must be product or zip, not ${describeValue(mode)}.` });
  }
  if (!isMapping(matrix)) {
    issues.push({
      path: base,
      message: `must be a mapping of dotted config paths to lists of values, with optional include and exclude lists; got ${describeValue(matrix)}.`,
    });
    throwIfIssues(issues);
    return parsed;
  }

  for (const [name, values] of Object.entries(matrix)) {
    if (name === 'include' || name === 'exclude') continue;
    const problem = pathProblem(name);
    if (problem !== null) issues.push({ path: [...base, name], message: `${problem} Matrix keys are config paths.` });
    if (!Array.isArray(values)) {
      issues.push({
        path: [...base, name],
        message: `a matrix vector must be a list of values, but this is ${describeValue(values)}. To try a single value write it as a list of one item, e.g. ${name}: [${JSON.stringify(values) ?? 'null'}], or set it in the config instead.`,
      });
      continue;
    }
    parsed.vectors.push({ name, values });
  }
  const names = parsed.vectors.map((vector) => vector.name);

  if (mode === 'zip' && parsed.vectors.length > 1) {
    const lengths = new Set(parsed.vectors.map((vector) => vector.values.length));
    if (lengths.size > 1) {
      const listed = parsed.vectors.map((vector) => `${vector.name} has ${vector.values.length}`).join(', ');
      issues.push({ path: base, message: `with mode: zip every matrix vector must have the same number of values, but ${listed}.` });
    }
  }

  for (const [index, item] of listItems(matrix.exclude, [...base, 'exclude'], issues)) {
    const path = [...base, 'exclude', index];
    const keys = Object.keys(item);
    if (keys.length === 0) {
      issues.push({ path, message: 'an exclude item must not be empty: name at least one matrix key and the value to leave out.' });
      continue;
    }
    const unknown = keys.filter((key) => !names.includes(key));
    for (const key of unknown) issues.push({ path: [...path, key], message: unknownExcludeKey(key, names) });
    if (unknown.length === 0) parsed.excludes.push(item);
  }

  for (const [index, item] of listItems(matrix.include, [...base, 'include'], issues)) {
    const path = [...base, 'include', index];
    const entries = Object.entries(item);
    if (entries.length === 0) {
      issues.push({
        path,
        message:
          'an include item needs a filter (a matrix key and its value) or extras (other dotted config paths and the values to set), and this one has neither.',
      });
      continue;
    }
    const include: IncludeItem = { index, item, filter: [], extras: [] };
    let valid = true;
    for (const [key, value] of entries) {
      if (names.includes(key)) {
        include.filter.push([key, value]);
        continue;
      }
      const problem = pathProblem(key) ?? ancestorProblem(key, names);
      if (problem !== null) {
        issues.push({ path: [...path, key], message: problem });
        valid = false;
      }
      include.extras.push([key, value]);
    }
    if (valid) parsed.includes.push(include);
  }

  throwIfIssues(issues);
  return parsed;
}

/** The mapping items of an include/exclude list, reporting a value that is not a list of mappings. */
function listItems(list: unknown, path: YamlPath, issues: SweepIssue[]): [number, Record<string, unknown>][] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) {
    issues.push({ path, message: `must be a list of mappings, but this is ${describeValue(list)}.` });
    return [];
  }
  const items: [number, Record<string, unknown>][] = [];
  list.forEach((item, index) => {
    if (isMapping(item)) items.push([index, item]);
    else
      issues.push({
        path: [...path, index],
        message: `each item must be a mapping of config paths to values, but this is ${describeValue(item)}.`,
      });
  });
  return items;
}

function unknownExcludeKey(key: string, names: string[]): string {
  const known = names.length === 0 ? 'the matrix has no vectors' : `the matrix keys are ${names.join(', ')}`;
  let hint = '';
  const below = names.filter((name) => isAncestorPath(key, name));
  const above = names.find((name) => isAncestorPath(name, key));
  if (below.length > 0) hint = ` To match a vector, write its key itself (${below.join(', ')}) rather than a mapping around it.`;
  else if (above !== undefined) {
    hint = ` To match part of the values of ${above}, nest it: ${above}: {${key.slice(above.length + 1)}: ...}.`;
  }
  return `'${key}' is not a key of the matrix (${known}); exclude items may only name matrix keys, as in GitHub Actions.${hint}`;
}

/** An include extra that contains a vector's path would overwrite that vector's values: refuse it. */
function ancestorProblem(key: string, names: string[]): string | null {
  const below = names.filter((name) => isAncestorPath(key, name));
  if (below.length === 0) return null;
  return (
    `'${key}' contains the matrix key ${below.join(', ')}, so as an extra it would replace matrix values, which ` +
    `include never does. To filter on a vector write its key itself (e.g. ${below[0]}: ...); to set other ` +
    `values under ${key} write their dotted paths (e.g. ${key}.name: ...).`
  );
}

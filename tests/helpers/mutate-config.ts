// Seeded mutations of config files: wrong types, removed and renamed keys, extreme numbers, empty and huge strings,
// raw YAML damage. Used by tests/runner/config/mutations.test.ts to check that validation never crashes and locates
// what it rejects.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { mulberry32 } from '../../runner/common/random.ts';

/** One broken variant of a config: its YAML text and what was done to it. */
export interface Mutant {
  base: string;
  what: string;
  yaml: string;
}

/** Uniform numbers in [0, 1) from the seeded mulberry32 generator sweeps draw from. */
export function seededRandom(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() / 2 ** 32;
}

type Node = unknown;
type Path = (string | number)[];

/**
 * A config file as data with its relative paths (`extends`, data and model paths) made absolute against its folder,
 * so that a variant written anywhere names the same files.
 */
export function absoluteConfig(file: string): Record<string, unknown> {
  const folder = dirname(file);
  const fix = (value: Node): Node => {
    if (typeof value === 'string' && /^\.\.?\//.test(value)) return resolve(folder, value);
    if (Array.isArray(value)) return value.map(fix);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fix(v)]));
    return value;
  };
  const data = fix(parse(readFileSync(file, 'utf8'))) as Record<string, unknown>;
  if (typeof data.extends === 'string' && !data.extends.startsWith('/')) data.extends = resolve(folder, data.extends);
  return data;
}

/** Every path to a node of `tree` (mappings and lists included), root excluded. */
function paths(tree: Node, prefix: Path = []): Path[] {
  const found: Path[] = [];
  const children = Array.isArray(tree) ? tree.map((v, i) => [i, v] as const) : tree && typeof tree === 'object' ? Object.entries(tree) : [];
  for (const [key, value] of children) {
    found.push([...prefix, key], ...paths(value, [...prefix, key]));
  }
  return found;
}

function parentOf(tree: Node, path: Path): Record<string | number, unknown> {
  return path.slice(0, -1).reduce<Node>((node, key) => (node as Record<string | number, unknown>)[key], tree) as Record<
    string | number,
    unknown
  >;
}

const WRONG_VALUES: unknown[] = [true, 'abc', 42, -1, [], {}, null, [1, 'x'], { type: 'nope' }, '1e3'];
const EXTREME_NUMBERS: unknown[] = [0, -1, -0.5, 1e308, -1e308, 1e-300, 2 ** 53, 0.5, 1.5, 1e6, Infinity, -Infinity, NaN];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

/** One tree mutation of `data` (in place); returns what it did. */
function mutateTree(data: Record<string, unknown>, random: () => number): string {
  const all = paths(data);
  const path = pick(random, all);
  const parent = parentOf(data, path);
  const key = path.at(-1)!;
  const at = path.join('.');
  const kind = pick(random, ['type', 'remove', 'rename', 'number', 'string', 'string']);
  const value = parent[key];
  switch (kind) {
    case 'type':
      parent[key] = structuredClone(pick(random, WRONG_VALUES));
      return `${at}: wrong type ${JSON.stringify(parent[key])}`;
    case 'remove':
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      return `${at}: removed`;
    case 'rename': {
      if (Array.isArray(parent)) return mutateTree(data, random);
      const name = String(key);
      const renamed = random() < 0.5 ? `${name}s` : name.length > 2 ? name.slice(0, 1) + name.slice(2) : `${name}_`;
      delete parent[key];
      parent[renamed] = value;
      return `${at}: renamed to ${renamed}`;
    }
    case 'number':
      parent[key] = pick(random, EXTREME_NUMBERS);
      return `${at}: ${String(parent[key])}`;
    default:
      parent[key] = random() < 0.5 ? '' : 'x'.repeat(20_000);
      return `${at}: ${(parent[key] as string).length}-character string`;
  }
}

/** Raw damage to YAML text: a character deleted or inserted, a line duplicated, cut or re-indented, the text truncated. */
function damageText(text: string, random: () => number): { yaml: string; what: string } {
  const lines = text.split('\n');
  const n = Math.floor(random() * lines.length);
  const position = Math.floor(random() * text.length);
  switch (pick(random, ['delete', 'insert', 'duplicate', 'indent', 'truncate'])) {
    case 'delete':
      return { yaml: text.slice(0, position) + text.slice(position + 1), what: `character ${position} deleted` };
    case 'insert': {
      const char = pick(random, [':', '[', '{', '"', "'", '\t', '&a ', '*a', '- ', '#', '\u0000', '%']);
      return { yaml: text.slice(0, position) + char + text.slice(position), what: `${JSON.stringify(char)} inserted at ${position}` };
    }
    case 'duplicate':
      lines.splice(n, 0, lines[n]!);
      return { yaml: lines.join('\n'), what: `line ${n + 1} duplicated` };
    case 'indent':
      lines[n] = pick(random, [' ', '   ', '']) + lines[n]!.trimStart();
      return { yaml: lines.join('\n'), what: `line ${n + 1} re-indented` };
    default:
      return { yaml: text.slice(0, position), what: `truncated at ${position}` };
  }
}

/**
 * `count` seeded variants of the given config files (a tree mutation, sometimes two, or raw text damage), written
 * with absolute paths so that they can live in any folder.
 */
export function mutateConfigs(files: string[], count: number, seed: number): Mutant[] {
  const random = seededRandom(seed);
  const bases = files.map((file) => ({ file, data: absoluteConfig(file) }));
  const mutants: Mutant[] = [];
  while (mutants.length < count) {
    const base = pick(random, bases);
    const data = structuredClone(base.data);
    if (random() < 0.2) {
      const damaged = damageText(stringify(data, { lineWidth: 0 }), random);
      mutants.push({ base: base.file, what: damaged.what, yaml: damaged.yaml });
      continue;
    }
    const what = [mutateTree(data, random)];
    if (random() < 0.3) what.push(mutateTree(data, random));
    mutants.push({ base: base.file, what: what.join('; '), yaml: stringify(data, { lineWidth: 0 }) });
  }
  return mutants;
}

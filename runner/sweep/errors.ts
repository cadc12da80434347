import { UserError } from '../errors.ts';

/** A location in the config, relative to its root: keys and list indices, e.g. ['sweep', 'matrix', 'exclude', 0]. */
export type YamlPath = (string | number)[];

/** One problem found in a sweep definition, at a location in the config. */
export interface SweepIssue {
  /** Where the problem is, relative to the config root (the config loader maps it to file:line:col). */
  path: YamlPath;
  /** What is wrong and what would be right, as a sentence. */
  message: string;
}

/** Bad `sweep:` block: one clear paragraph for people, plus every issue with its config path for tools. */
export class SweepDefinitionError extends UserError {
  override name = 'SweepDefinitionError';
  /** Every problem found, in the order found. */
  readonly issues: SweepIssue[];
  constructor(issues: SweepIssue[]) {
    super(describeIssues(issues));
    this.issues = issues;
  }
}

/** Throws a SweepDefinitionError when `issues` is not empty. */
export function throwIfIssues(issues: SweepIssue[]): void {
  if (issues.length > 0) throw new SweepDefinitionError(issues);
}

/**
 * A config path as users write it: `sweep.matrix.exclude[0]["optimizer.lr"]`. Keys that are not
 * plain identifiers (dotted matrix keys among them) are quoted, so they are not mistaken for nesting.
 */
export function formatPath(path: YamlPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out === '' ? '(config root)' : out;
}

function describeIssues(issues: SweepIssue[]): string {
  const line = (issue: SweepIssue) => `${formatPath(issue.path)}: ${issue.message}`;
  if (issues.length === 1) return `Invalid sweep definition at ${line(issues[0]!)}`;
  const listed = issues.map((issue, i) => `(${i + 1}) ${line(issue)}`).join(' ');
  return `Invalid sweep definition, ${issues.length} problems: ${listed}`;
}

/** A short description of a value for error messages: `a number (0.01)`, `a mapping`, `null`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `a list (${preview(value)})`;
  if (typeof value === 'object') return `a mapping (${preview(value)})`;
  return `a ${typeof value} (${preview(value)})`;
}

function preview(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

import { formatPath, type YamlPath } from '../common/yaml-path.ts';
import { UserError } from '../errors.ts';

export { formatPath, type YamlPath };

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

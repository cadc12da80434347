import * as assert from 'uvu/assert';
import { UserError } from '../../../runner/errors.ts';
import { SweepDefinitionError, type YamlPath } from '../../../runner/sweep/errors.ts';

/** Asserts `run` throws a SweepDefinitionError (a UserError) whose issues are at `paths`, mentioning `words`. */
export function assertIssues(run: () => unknown, paths: YamlPath[], words: string[] = []): SweepDefinitionError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof SweepDefinitionError, `expected a SweepDefinitionError, got ${String(caught)}`);
  const error = caught as SweepDefinitionError;
  assert.ok(error instanceof UserError);
  assert.is(error.exitCode, 2);
  assert.equal(
    error.issues.map((issue) => issue.path),
    paths,
  );
  for (const word of words) assert.ok(error.message.includes(word), `message should mention ${word}: ${error.message}`);
  return error;
}

/** A trial's entries in order, so comparisons check key order too. */
export function ordered(trials: Record<string, unknown>[]): [string, unknown][][] {
  return trials.map((trial) => Object.entries(trial));
}

/** Checking a raw `sweep:` block: schema (ajv), then the rules the schema cannot say, then defaults. */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { describeValue, SweepDefinitionError, type SweepIssue, type YamlPath } from './errors.ts';
import { SweepSchema, type SweepDefinition } from '../config/sweep-schema.ts';
import { planTrialsPlanned } from './trials.ts';

/** A sweep with its defaults filled in. */
export type ResolvedSweep = SweepDefinition & Required<Pick<SweepDefinition, 'mode' | 'max_parallel' | 'fail_fast'>>;

let validator: ValidateFunction | undefined;

/** `SweepSchema` compiled with ajv in strict mode, all errors, verbose (for messages naming allowed keys). */
export function sweepValidator(): ValidateFunction {
  validator ??= new Ajv({ strict: true, allErrors: true, verbose: true }).compile(SweepSchema);
  return validator;
}

/**
 * Validates a raw `sweep:` block (as parsed from YAML) at config path `base`: its shape, then every rule of
 * planning (exclude keys, include items, bounds of distributions, the trial limits), so that a bad sweep
 * fails before any trial runs. Returns it with defaults filled in; throws SweepDefinitionError with all issues.
 */
export function parseSweep(raw: unknown, base: YamlPath = ['sweep']): ResolvedSweep {
  const validate = sweepValidator();
  if (!validate(raw)) throw new SweepDefinitionError(schemaIssues(validate.errors ?? [], base));
  const sweep = raw as SweepDefinition;
  planTrialsPlanned(sweep, base);
  const resolved: ResolvedSweep = {
    ...sweep,
    mode: sweep.mode ?? 'product',
    max_parallel: sweep.max_parallel ?? 1,
    fail_fast: sweep.fail_fast ?? false,
  };
  if (sweep.random !== undefined)
    resolved.random = { ...sweep.random, seed: sweep.random.seed ?? 0, combine: sweep.random.combine ?? 'append' };
  return resolved;
}

/** Ajv errors as sweep issues with config paths, one per problem, without anyOf/if noise. */
export function schemaIssues(errors: ErrorObject[], base: YamlPath): SweepIssue[] {
  const issues: SweepIssue[] = [];
  for (const error of errors) {
    const path: YamlPath = [...base, ...pointerSegments(error.instancePath)];
    const params = error.params as Record<string, unknown>;
    let message: string;
    switch (error.keyword) {
      case 'additionalProperties': {
        path.push(String(params.additionalProperty));
        const parent = (error.parentSchema ?? {}) as { properties?: object; patternProperties?: object };
        const allowed = Object.keys(parent.properties ?? {});
        if (parent.patternProperties !== undefined) {
          const reserved = allowed.length > 0 ? ` (or one of ${allowed.join(', ')})` : '';
          message = `is not a dotted config path${reserved}: write keys separated by dots, like optimizer.lr (letters, digits, _ and -; the first key starts with a letter or _).`;
        } else {
          message = `unknown key; allowed here: ${allowed.join(', ')}.`;
        }
        break;
      }
      case 'required':
        path.push(String(params.missingProperty));
        message = 'is required here.';
        break;
      case 'enum':
        message = `must be one of ${(params.allowedValues as unknown[]).join(', ')}, not ${describeValue(error.data)}.`;
        break;
      case 'type':
        message = `must be ${article(String(params.type))}, not ${describeValue(error.data)}.`;
        break;
      case 'minProperties':
        message =
          path.at(-2) === 'include'
            ? 'an include item needs a filter (a matrix key and its value) or extras (other dotted config paths and the values to set), and this one has neither.'
            : path.at(-2) === 'exclude'
              ? 'an exclude item must not be empty: name at least one matrix key and the value to leave out.'
              : 'must not be empty.';
        break;
      case 'minimum':
      case 'maximum':
        message = `must be ${error.keyword === 'minimum' ? 'at least' : 'at most'} ${params.limit}, not ${describeValue(error.data)}.`;
        break;
      case 'minItems':
        message = `must have at least ${params.limit} item${params.limit === 1 ? '' : 's'}.`;
        break;
      default:
        message = `${error.message ?? 'is invalid'}.`;
    }
    issues.push({ path, message });
  }
  return issues;
}

function pointerSegments(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((raw) => raw.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((segment) => (/^(0|[1-9][0-9]*)$/.test(segment) ? Number(segment) : segment));
}

function article(type: string): string {
  const names: Record<string, string> = {
    array: 'a list',
    object: 'a mapping',
    integer: 'a whole number',
    number: 'a number',
    string: 'a string',
    boolean: 'true or false',
    null: 'null',
  };
  return names[type] ?? type;
}

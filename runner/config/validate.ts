import { resolve } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { closestName } from '../registry.ts';
import type { ConfigIssue, ConfigPath } from './issues.ts';
import { isUrl, PATH_KEYWORD } from './path.ts';
import { componentKinds, experimentJsonSchema, type ExperimentConfig } from './schema.ts';

let compiled: { validate: ValidateFunction; components: string } | undefined;
let baseDirOf: (path: ConfigPath) => string = () => process.cwd();

/** Every registered component (`kind.name`), so the validator is compiled again after plugins add some. */
function registeredComponents(): string {
  return Object.entries(componentKinds)
    .map(([kind, registry]) => `${kind}:${registry.names().join(',')}`)
    .join(';');
}

/** The ajv validator of the experiment schema (compiled again when components were added; applies defaults, resolves paths). */
function validator(): ValidateFunction {
  const components = registeredComponents();
  if (compiled?.components === components) return compiled.validate;
  const ajv = new Ajv({ allErrors: true, strict: true, useDefaults: true, verbose: true, allowUnionTypes: true });
  ajv.addKeyword({
    keyword: PATH_KEYWORD,
    type: 'string',
    schemaType: 'boolean',
    modifying: true,
    validate(
      _: boolean,
      data: string,
      __: unknown,
      context?: { instancePath: string; parentData: Record<string | number, unknown>; parentDataProperty: string | number },
    ) {
      if (context && !isUrl(data)) {
        context.parentData[context.parentDataProperty] = resolve(baseDirOf(pointerToPath(context.instancePath)), data);
      }
      return true;
    },
  });
  compiled = { validate: ajv.compile(experimentJsonSchema()), components };
  return compiled.validate;
}

/**
 * Validates a merged config in place: applies defaults, resolves relative paths with `baseDir`
 * (the folder of the file that wrote each path), and returns every problem found.
 */
export function validateExperiment(
  data: unknown,
  baseDir: (path: ConfigPath) => string,
): { config?: ExperimentConfig; issues: ConfigIssue[] } {
  const validate = validator();
  baseDirOf = baseDir;
  try {
    if (validate(data)) return { config: data as ExperimentConfig, issues: [] };
  } finally {
    baseDirOf = () => process.cwd();
  }
  return { issues: describeErrors(validate.errors ?? []) };
}

/** `/a/0/b` → ['a', 0, 'b']. */
export function pointerToPath(pointer: string): ConfigPath {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** Turns ajv's errors into one clear issue per problem (branch noise of if/anyOf removed). */
export function describeErrors(errors: ErrorObject[]): ConfigIssue[] {
  const relevant = errors.filter((e) => e.keyword !== 'if');
  // For anyOf (e.g. `tracking: false | {...}`): if a branch went deeper, its errors say more.
  const deeper = (path: string) => relevant.some((e) => e.instancePath.startsWith(path + '/') && e.keyword !== 'anyOf');
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const error of relevant) {
    const anyOfParent = relevant.find((e) => e.keyword === 'anyOf' && e.instancePath === error.instancePath && e !== error);
    if (anyOfParent && deeper(error.instancePath)) continue;
    if (anyOfParent && error.keyword !== 'anyOf') continue;
    if (error.keyword === 'anyOf' && deeper(error.instancePath)) continue;
    const issue = describeError(error);
    const key = JSON.stringify([issue.path, issue.message]);
    if (!seen.has(key)) {
      seen.add(key);
      issues.push(issue);
    }
  }
  return issues;
}

function describeError(error: ErrorObject): ConfigIssue {
  const path = pointerToPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  const parentSchema = error.parentSchema as
    | { properties?: Record<string, unknown>; description?: string; anyOf?: { const?: unknown; type?: string; description?: string }[] }
    | undefined;
  switch (error.keyword) {
    case 'required': {
      const key = String(params.missingProperty);
      return { path: [...path, key], message: `missing required key '${key}'.`, hint: describeProperty(parentSchema, key) };
    }
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowed = Object.keys(parentSchema?.properties ?? {});
      const closest = closestName(key, allowed);
      return {
        path: [...path, key],
        atKey: true,
        message: `unknown key '${key}'.` + (closest ? ` Did you mean '${closest}'?` : ''),
        hint: allowed.length > 0 ? `Allowed keys here: ${allowed.join(', ')}.` : 'No keys are allowed here.',
      };
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String);
      const value = String(error.data);
      const closest = closestName(value, allowed);
      const component = /^Which registered (\w+)\.$/.exec(parentSchema?.description ?? '');
      const what = component ? `unknown ${component[1]} '${value}'` : `${describeValue(error.data)} is not allowed`;
      return {
        path,
        message: `${what}.` + (closest ? ` Did you mean '${closest}'?` : ''),
        hint: `${component ? `Registered ${component[1]}s` : 'Allowed values'}: ${allowed.join(', ')}.`,
      };
    }
    case 'type':
      return { path, message: `expected ${article(String(params.type))}, got ${describeValue(error.data)}.` };
    case 'const':
      return { path, message: `must be ${JSON.stringify(params.allowedValue)}, got ${describeValue(error.data)}.` };
    case 'not':
      return { path, message: `${describeValue(error.data)} is not allowed here.`, hint: (parentSchema?.description ?? '') || undefined };
    case 'anyOf': {
      const options = (parentSchema?.anyOf ?? []).map((o) =>
        o.const !== undefined ? JSON.stringify(o.const) : article(o.type ?? 'value'),
      );
      return { path, message: `expected ${options.join(' or ')}, got ${describeValue(error.data)}.` };
    }
    default:
      return { path, message: `${error.message ?? 'is invalid'}, got ${describeValue(error.data)}.` };
  }
}

function describeProperty(schema: { properties?: Record<string, unknown> } | undefined, key: string): string | undefined {
  const property = schema?.properties?.[key] as { description?: string } | undefined;
  return property?.description ? `${key}: ${property.description}` : undefined;
}

function article(type: string): string {
  if (type === 'object') return 'a mapping';
  if (type === 'array') return 'a list';
  if (type === 'integer') return 'an integer';
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** A short description of a config value for messages: `the string "abc"`, `a list`. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 60 ? value.slice(0, 57) + '...' : value)}`;
  return `${typeof value} ${String(value)}`;
}

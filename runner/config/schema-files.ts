import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Registry } from '../registry.ts';
import { configReference } from './reference.ts';
import {
  componentDefinitions,
  componentKinds,
  componentSchema,
  experimentJsonSchema,
  nestedSlots,
  optionalDefaults,
  structuredCloneSchema,
  type ComponentKind,
} from './schema.ts';

/** The generated schema files by name: the experiment schema and one per component kind. */
export function schemaFiles(): Record<string, string> {
  const files: Record<string, string> = { 'experiment.schema.json': stringify(experimentJsonSchema()) };
  for (const [kind, registry] of Object.entries(componentKinds)) {
    const components = (registry as Registry<unknown, never>).all();
    const nestedKinds = Object.values(nestedSlots[kind as ComponentKind] ?? {}).map((s) => s.kind);
    files[`${kind}.schema.json`] = stringify({
      $schema: 'http://json-schema.org/draft-07/schema#',
      title: `runner ${kind} components`,
      description: `Every registered ${kind}: pick one with 'type'.`,
      oneOf: components.map((c) => optionalDefaults(structuredCloneSchema(componentSchema(kind, c)))),
      // Nested slots (optimizer.schedule) refer to their kind's components under $defs, as in the experiment schema.
      ...(nestedKinds.length > 0 && { $defs: optionalDefaults(JSON.parse(JSON.stringify(componentDefinitions(nestedKinds))) as unknown) }),
    });
  }
  return files;
}

/** Name of the generated config reference, written beside the schemas' folder in docs/. */
export const REFERENCE_FILE = join('..', 'docs', 'CONFIG.md');

/** Every generated file by path relative to the schemas folder: the schemas and docs/CONFIG.md. */
export function generatedFiles(): Record<string, string> {
  return { ...schemaFiles(), [REFERENCE_FILE]: configReference() };
}

/** Writes the generated files (default: all; relative to the schemas folder `dir`); returns the names that changed. */
export function writeSchemaFiles(dir: string, files: Record<string, string> = generatedFiles()): string[] {
  const changed: string[] = [];
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    const path = join(dir, name);
    if (!existsSync(path) || readFileSync(path, 'utf8') !== text) {
      writeFileSync(path, text);
      changed.push(name);
    }
  }
  return changed;
}

/** Generated files (relative to the schemas folder `dir`) that differ from what the registered components generate. */
export function staleSchemaFiles(dir: string): string[] {
  return Object.entries(generatedFiles())
    .filter(([name, text]) => !existsSync(join(dir, name)) || readFileSync(join(dir, name), 'utf8') !== text)
    .map(([name]) => name);
}

function stringify(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

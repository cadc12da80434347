import type { TSchema } from '@sinclair/typebox';
import { parseCommandArgs } from '../cli-args.ts';
import { componentKinds, componentProperties } from '../config/schema.ts';
import { loadPluginFiles, pluginOption } from '../config/plugins.ts';
import { UserError } from '../errors.ts';
import { closestName, type Registry } from '../registry.ts';
import type { Command } from './command.ts';

/** `runner components`: every registered component with its params, defaults and docs. */
export const command: Command = {
  help: `Usage: runner components [kind] [--plugins <file,...>]

Lists the registered components (kinds: ${Object.keys(componentKinds).join(', ')}) with each param's
type, default and description. Give a kind to list only that kind.

Options:
  --plugins <files>   Plugin modules (comma-separated or repeated; relative to the working directory)
                      whose components are listed too`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs('components', argv, { plugins: { type: 'string', multiple: true } });
    await loadPluginFiles(pluginOption(values.plugins));
    const kinds = Object.keys(componentKinds);
    const wanted = positionals[0];
    if (wanted !== undefined && !kinds.includes(wanted)) {
      const closest = closestName(wanted, kinds);
      throw new UserError(`Unknown component kind '${wanted}'.${closest ? ` Did you mean '${closest}'?` : ''} Kinds: ${kinds.join(', ')}.`);
    }
    process.stdout.write(describeComponents(wanted) + '\n');
    return 0;
  },
};

/** The text `runner components` prints. */
export function describeComponents(onlyKind?: string): string {
  const out: string[] = [];
  for (const [kind, registry] of Object.entries(componentKinds)) {
    if (onlyKind && kind !== onlyKind) continue;
    out.push(`${kind}:`);
    for (const component of (registry as Registry<unknown, never>).all()) {
      out.push(`  ${component.name} — ${component.summary}`);
      const params = componentProperties(kind, component);
      for (const [name, schema] of Object.entries(params.properties)) {
        const required = params.required?.includes(name) && schema.default === undefined;
        const detail = required ? 'required' : schema.default !== undefined ? `default ${JSON.stringify(schema.default)}` : 'optional';
        out.push(`      ${name} (${typeName(schema)}, ${detail}): ${schema.description ?? ''}`);
      }
    }
    out.push('');
  }
  return out.join('\n').trimEnd();
}

function typeName(schema: TSchema): string {
  if (schema.enum) return (schema.enum as unknown[]).map((v) => JSON.stringify(v)).join(' | ');
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.allOf && schema.properties?.type) return 'component';
  if (schema.type === 'array') return `list of ${schema.items ? typeName(schema.items as TSchema) : 'values'}`;
  if (Array.isArray(schema.type)) return schema.type.join(' | ');
  if (schema.anyOf) return (schema.anyOf as TSchema[]).map(typeName).join(' | ');
  return String(schema.type ?? 'value');
}

/**
 * Plugin modules: user files whose default export (`definePlugin({model: [...], ...})`) adds components to the
 * registries. Importing one registers all its components or none; each module is imported once per process.
 */
import { existsSync } from 'node:fs';
import { extname, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UserError } from '../errors.ts';
import { closestName, type Component, type Registry } from '../registry.ts';
import type { ConfigPath } from './issues.ts';
import { componentKinds, type ComponentKind } from './schema.ts';
import type { Mapping } from './tree.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ComponentOf<R> = R extends Registry<infer Built, infer Context> ? Component<any, Built, Context> : never;

/** What a plugin module exports by default: the components it adds, by kind (`model`, `tokenizer`, ...). */
export type Plugin = { [K in ComponentKind]?: ComponentOf<(typeof componentKinds)[K]>[] };

/** Declares a plugin's components by kind (checks their types; the default export of a plugin module). */
export function definePlugin(plugin: Plugin): Plugin {
  return plugin;
}

/** One `plugins:` entry of a config: where it is written and the module file it names. */
export interface PluginEntry {
  path: ConfigPath;
  file: string;
}

/** The plugin files a merged (unvalidated) config names, resolved against the folder of the file that wrote each. */
export function pluginEntries(config: { data: Mapping; baseDir(path: ConfigPath): string }): PluginEntry[] {
  const list = config.data.plugins;
  if (!Array.isArray(list)) return [];
  return list.flatMap((entry: unknown, index) => {
    const path: ConfigPath = ['plugins', index];
    return typeof entry === 'string' && entry !== '' ? [{ path, file: resolve(config.baseDir(path), entry) }] : [];
  });
}

/** Imported plugin files → the components each registered (`model mlp`). */
const imported = new Map<string, string[]>();
/** `kind.name` → the plugin file that registered it (built-in components are absent). */
const origins = new Map<string, string>();

/** True when the plugin file has been imported and its components registered. */
export function isPluginLoaded(file: string): boolean {
  return imported.has(resolve(file));
}

/** The plugin files imported so far, in order. */
export function loadedPlugins(): string[] {
  return [...imported.keys()];
}

/**
 * Imports a plugin module and registers its components (all or none); a file imported before is not imported again.
 * Resolves to the components it registered (`model mlp`). A missing file, a module that throws, exports no
 * components, names an unknown kind or a component name already taken is a UserError naming the module.
 */
export async function importPlugin(file: string): Promise<string[]> {
  const absolute = resolve(file);
  const done = imported.get(absolute);
  if (done) return done;
  const shown = displayPath(absolute);
  if (!existsSync(absolute)) throw new UserError(`plugin ${shown} does not exist.`);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(absolute).href)) as Record<string, unknown>;
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message.split('\n')[0]}` : String(error);
    throw new UserError(`plugin ${shown} failed to load: ${message}${commonJsHint(error, absolute)}`, { cause: error });
  }
  const additions = pluginComponents(module.default, shown);
  for (const { kind, component } of additions) {
    (componentKinds[kind] as unknown as Registry<unknown, unknown>).register(component as never);
    origins.set(`${kind}.${component.name}`, absolute);
  }
  const names = additions.map(({ kind, component }) => `${kind} ${component.name}`);
  imported.set(absolute, names);
  return names;
}

interface Addition {
  kind: ComponentKind;
  component: { name: string };
}

/** The components a plugin's default export adds, checked against the registries (nothing registered yet). */
function pluginComponents(plugin: unknown, shown: string): Addition[] {
  const kinds = Object.keys(componentKinds) as ComponentKind[];
  const usage = `export default definePlugin({ model: [myModel], ... }) with components made by defineComponent (kinds: ${kinds.join(', ')})`;
  if (plugin === null || typeof plugin !== 'object' || Array.isArray(plugin)) {
    throw new UserError(`plugin ${shown} exports no components: it must ${usage}.`);
  }
  const additions: Addition[] = [];
  const taken = new Set<string>();
  for (const [kind, list] of Object.entries(plugin)) {
    if (!kinds.includes(kind as ComponentKind)) {
      const closest = closestName(kind, kinds);
      throw new UserError(
        `plugin ${shown}: unknown component kind '${kind}'.${closest ? ` Did you mean '${closest}'?` : ''} Kinds: ${kinds.join(', ')}.`,
      );
    }
    if (!Array.isArray(list)) throw new UserError(`plugin ${shown}: '${kind}' must be a list of components made by defineComponent.`);
    list.forEach((component: unknown, index) => {
      if (!isComponent(component)) {
        throw new UserError(`plugin ${shown}: ${kind}[${index}] is not a component (defineComponent({name, summary, params, build})).`);
      }
      const key = `${kind}.${component.name}`;
      const registry = componentKinds[kind as ComponentKind] as unknown as Registry<unknown, unknown>;
      if (registry.find(component.name) || taken.has(key)) {
        const owner = taken.has(key)
          ? 'this same plugin'
          : origins.has(key)
            ? `plugin ${displayPath(origins.get(key)!)}`
            : 'the runner (built in)';
        throw new UserError(
          `plugin ${shown}: ${kind} '${component.name}' is already registered by ${owner}; give the plugin's component another name.`,
        );
      }
      if (!/^[a-z][a-z0-9_]*$/.test(component.name)) {
        throw new UserError(`plugin ${shown}: ${kind} component name '${component.name}' must be snake_case (a-z, 0-9, _).`);
      }
      taken.add(key);
      additions.push({ kind: kind as ComponentKind, component });
    });
  }
  if (additions.length === 0) throw new UserError(`plugin ${shown} exports no components: it must ${usage}.`);
  return additions;
}

function isComponent(value: unknown): value is { name: string } {
  const c = value as Record<string, unknown> | null;
  return (
    c !== null &&
    typeof c === 'object' &&
    typeof c.name === 'string' &&
    typeof c.summary === 'string' &&
    typeof c.params === 'object' &&
    c.params !== null &&
    typeof c.build === 'function'
  );
}

/** Why an ES module plugin may have been loaded as CommonJS, when that is what went wrong. */
function commonJsHint(error: unknown, file: string): string {
  const code = (error as { code?: unknown } | null)?.code;
  const text = error instanceof Error ? error.message : '';
  if (!/^ERR_REQUIRE/.test(String(code)) && !/require\(\) ES Module|Cannot use import statement outside a module/.test(text)) return '';
  return (
    ` (Node loaded ${extname(file) || 'the file'} as CommonJS: a plugin written with import/export needs a package.json ` +
    `with "type": "module" in its folder or above, or the extension .mts / .mjs.)`
  );
}

/** The path relative to the working directory when it lies below it, else absolute. */
function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}

import type { Static, TObject } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** Everything a component builder may need from the run that builds it. */
export interface BuildContext {
  /** Absolute folder of the config file (relative paths were already resolved against it). */
  configDir: string;
  /** Prints a warning the way the runner prints warnings. */
  warn(message: string): void;
}

/** One registered component: its params schema and its builder side by side. */
export interface Component<Params extends TObject, Built, Context = BuildContext> {
  /** Name used as `type:` in configs. */
  name: string;
  /** One line shown by `runner components` and in the JSON Schema. */
  summary: string;
  /** TypeBox schema of the params (without `type`); the single source of the params' type. */
  params: Params;
  /** Builds the component from validated params (defaults applied). */
  build(params: Static<Params>, context: Context): Built;
}

/** Declares a component with its params type inferred from its schema. */
export function defineComponent<Params extends TObject, Built, Context = BuildContext>(
  component: Component<Params, Built, Context>,
): Component<Params, Built, Context> {
  return component;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyComponent<Built, Context> = Component<TObject, Built, Context> | Component<any, Built, Context>;

/** The components of one kind (datasets, models, ...), in registration order; duplicate names throw. */
export class Registry<Built, Context = BuildContext> {
  private readonly byName = new Map<string, AnyComponent<Built, Context>>();

  /** `kind` names the registry in messages ("model", "dataset"). */
  constructor(readonly kind: string) {}

  /** Adds components; a name registered twice is a programming error and throws. */
  register(...components: AnyComponent<Built, Context>[]): this {
    for (const component of components) {
      if (this.byName.has(component.name)) {
        throw new Error(`${this.kind} component '${component.name}' is registered twice`);
      }
      if (!/^[a-z][a-z0-9_]*$/.test(component.name)) {
        throw new Error(`${this.kind} component name '${component.name}' must be snake_case`);
      }
      this.byName.set(component.name, component);
    }
    return this;
  }

  /** The component called `name`, or undefined. */
  find(name: string): AnyComponent<Built, Context> | undefined {
    return this.byName.get(name);
  }

  /** The component called `name`; throws when it is not registered (validation catches that earlier). */
  get(name: string): AnyComponent<Built, Context> {
    const component = this.byName.get(name);
    if (!component) throw new Error(`no ${this.kind} component '${name}' (registered: ${this.names().join(', ')})`);
    return component;
  }

  /** Builds the component named by `config.type` with the rest of `config` as its params. */
  build(config: { type: string } & Record<string, unknown>, context: Context): Built {
    const { type, ...given } = config;
    const component = this.get(type);
    // Configs arrive validated with defaults applied; programmatic callers get the same guarantees.
    const params = Value.Default(component.params, structuredClone(given));
    if (!Value.Check(component.params, params)) {
      const problems = [...Value.Errors(component.params, params)].slice(0, 3).map((e) => `${e.path || '/'} ${e.message}`);
      throw new Error(`invalid params for ${this.kind} '${type}': ${problems.join('; ')}`);
    }
    return component.build(params as never, context);
  }

  /** Registered names in registration order. */
  names(): string[] {
    return [...this.byName.keys()];
  }

  /** Registered components in registration order. */
  all(): AnyComponent<Built, Context>[] {
    return [...this.byName.values()];
  }
}

export { closestName, editDistance } from './common/names.ts';

import type { Static, TObject } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { ConfigIssue } from './config/issues.ts';
import { ConfigKeyError } from './config/issues.ts';

/** Everything a component builder may need from the run that builds it. */
export interface BuildContext {
  /** Absolute folder of the config file (relative paths were already resolved against it). */
  configDir: string;
  /** Prints a warning the way the runner prints warnings. */
  warn(message: string): void;
}

/**
 * A problem a component's `check` finds in its params: `path` is relative to the params (e.g. ['num_channels']),
 * so the static check can point at that key; `severity: 'warning'` does not stop a run.
 */
export type CheckIssue = ConfigIssue;

/**
 * What a component's `check` knows before any data loads. Every field may be missing: a check uses what it is
 * given and skips the rest.
 */
export interface CheckContext {
  /** Absolute folder of the config file (relative paths were already resolved against it). */
  configDir?: string;
  /** Shape of one input example as the model will see it: [max_len] for token ids, [height, width, channels] for images. */
  inputShape?: number[];
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
  /**
   * Rules across params (and files they name) that need no training data, run by the static check before anything
   * loads (`runner validate`, `--dry-run`, the start of `runner run`); returns every problem, [] when there is none.
   */
  check?(params: Static<Params>, context: CheckContext): CheckIssue[];
  /**
   * TensorFlow intra-op threads this component trains fastest with on `cores` CPU cores (undefined: TensorFlow's
   * default, one per core). Applied when the process loads TensorFlow for the CPU, unless TF_NUM_INTRAOP_THREADS is set.
   */
  intraOpThreads?(params: Static<Params>, cores: number): number | undefined;
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

  /**
   * Builds the component named by `config.type` with the rest of `config` as its params. Its `check` runs first
   * (with what the build context knows): its first error is thrown as a ConfigKeyError at a path relative to the
   * params (the caller puts the component's place before it with `within`).
   */
  build(config: { type: string } & Record<string, unknown>, context: Context): Built {
    const { component, params } = this.withDefaults(config);
    if (!Value.Check(component.params, params)) {
      const problems = [...Value.Errors(component.params, params)].slice(0, 3).map((e) => `${e.path || '/'} ${e.message}`);
      throw new Error(`invalid params for ${this.kind} '${config.type}': ${problems.join('; ')}`);
    }
    const error = component.check?.(params as never, context as CheckContext).find((i) => i.severity !== 'warning');
    if (error) throw new ConfigKeyError(error.path, error.message, error.hint);
    return component.build(params as never, context);
  }

  /**
   * The problems `check` of the component named by `config.type` finds in its params (paths relative to the
   * params); [] for an unknown type, params its schema rejects (the schema reports those) or a component without check.
   */
  check(config: { type: string } & Record<string, unknown>, context: CheckContext): CheckIssue[] {
    if (!this.byName.has(config.type)) return [];
    const { component, params } = this.withDefaults(config);
    if (!component.check || !Value.Check(component.params, params)) return [];
    return component.check(params as never, context);
  }

  /** The component of `config.type` and its params with defaults applied (configs arrive so; programmatic callers get the same). */
  private withDefaults(config: { type: string } & Record<string, unknown>): { component: AnyComponent<Built, Context>; params: unknown } {
    const { type, ...given } = config;
    const component = this.get(type);
    return { component, params: Value.Default(component.params, structuredClone(given)) };
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

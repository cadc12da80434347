import { UserError } from '../errors.ts';

/** Where an MLflow server is and how to authenticate to it; the secret never leaves this object. */
export class Connection {
  /** Server base URL without credentials and without a trailing slash (safe to print and store). */
  readonly uri: string;
  readonly #authorization: string | undefined;
  readonly #secrets: string[];

  constructor(uri: string, authorization?: string, secrets: string[] = []) {
    this.uri = uri;
    this.#authorization = authorization;
    this.#secrets = secrets.filter((s) => s.length >= 3);
  }

  /** Headers to send with every request (Authorization when credentials are configured). */
  headers(): Record<string, string> {
    return this.#authorization ? { authorization: this.#authorization } : {};
  }

  /** Which kind of credentials are in use: 'basic', 'bearer' or 'none' (never the secret). */
  get authKind(): 'basic' | 'bearer' | 'none' {
    if (!this.#authorization) return 'none';
    return this.#authorization.startsWith('Basic ') ? 'basic' : 'bearer';
  }

  /** `text` with every credential (and its Authorization form) replaced by `***`. */
  redact(text: string): string {
    let out = text;
    for (const secret of this.#secrets) out = out.split(secret).join('***');
    return out;
  }

  /** Printing a connection shows its URI only. */
  toJSON(): { uri: string } {
    return { uri: this.uri };
  }

  /** Printing a connection shows its URI only. */
  toString(): string {
    return this.uri;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Connection(${this.uri})`;
  }
}

/**
 * Builds the connection for a tracking URI: http(s) only; credentials from MLFLOW_TRACKING_USERNAME/PASSWORD
 * (Basic), else MLFLOW_TRACKING_TOKEN (Bearer), else user:password in the URI (Basic, removed from the URI).
 */
export function resolveConnection(rawUri: string, env: NodeJS.ProcessEnv = process.env): Connection {
  let url: URL;
  try {
    url = new URL(rawUri.trim());
  } catch {
    throw new UserError(
      `The MLflow tracking URI "${stripCredentials(rawUri)}" is not a URL. Use the address of an MLflow server, ` +
        `such as http://127.0.0.1:5000, or unset MLFLOW_TRACKING_URI / tracking.uri to use the local store under runs/mlflow.`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UserError(
      `The MLflow tracking URI "${stripCredentials(rawUri)}" uses ${url.protocol}, but the runner talks to MLflow ` +
        `servers over http(s) only. Start a server (e.g. \`runner ui\`, or \`mlflow server\`) and point ` +
        `MLFLOW_TRACKING_URI or tracking.uri at it, or unset both to use the local store under runs/mlflow.`,
    );
  }
  const secrets: string[] = [];
  const user = env.MLFLOW_TRACKING_USERNAME;
  const password = env.MLFLOW_TRACKING_PASSWORD;
  const token = env.MLFLOW_TRACKING_TOKEN;
  const urlUser = decodeURIComponent(url.username);
  const urlPassword = decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  let authorization: string | undefined;
  if (user || password) {
    if (!user || !password) {
      throw new UserError(
        'Only one of MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD is set; set both for Basic authentication, ' +
          'or neither (MLFLOW_TRACKING_TOKEN gives Bearer authentication).',
      );
    }
    authorization = basic(user, password, secrets);
  } else if (token) {
    authorization = `Bearer ${token}`;
    secrets.push(token);
  } else if (urlUser || urlPassword) {
    authorization = basic(urlUser, urlPassword, secrets);
  }
  const base = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  return new Connection(base, authorization, secrets);
}

/** `uri` with any user:password@ part removed, for messages. */
export function stripCredentials(uri: string): string {
  return uri.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

function basic(user: string, password: string, secrets: string[]): string {
  const encoded = Buffer.from(`${user}:${password}`).toString('base64');
  secrets.push(password, encoded);
  return `Basic ${encoded}`;
}

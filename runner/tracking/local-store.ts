import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pidAlive } from '../owner.ts';
import { type MlflowServer, startMlflowServer } from './server.ts';

/** The embedded store's folder for a run folder runs/<experiment>/<run-id>: runs/mlflow. */
export function defaultStoreDir(runDir: string): string {
  return join(dirname(dirname(resolve(runDir))), 'mlflow');
}

/** A share of a running local server; release it when done. */
export interface LocalServerLease {
  server: MlflowServer;
  /** True when the server is another process's (`runner ui`), used as is and never stopped by us. */
  adopted: boolean;
  /** Gives the share back; the last one stops the server (unless adopted). */
  release(): Promise<void>;
}

const shared = new Map<string, { starting: Promise<{ server: MlflowServer; adopted: boolean }>; refs: number }>();

/**
 * A running `mlflow server` on the store in `storeDir`: the one `runner ui` serves it with if there is one, else
 * one started here on a free loopback port. Shared by every lease in this process (e.g. all trials of a sweep);
 * a server started here is stopped when the last lease is released.
 */
export async function acquireLocalServer(storeDir: string): Promise<LocalServerLease> {
  const key = resolve(storeDir);
  let entry = shared.get(key);
  if (!entry) {
    const created = {
      starting: findAdvertisedServer(key).then(async (adopted) =>
        adopted ? { server: adopted, adopted: true } : { server: await startMlflowServer({ storeDir: key }), adopted: false },
      ),
      refs: 0,
    };
    shared.set(key, created);
    // A server that dies is forgotten, so the next acquire starts a fresh one.
    void created.starting
      .then(({ server }) => server.exited)
      .then(
        () => {
          if (shared.get(key) === created) shared.delete(key);
        },
        () => {},
      );
    entry = created;
  }
  entry.refs++;
  const current = entry;
  let started: { server: MlflowServer; adopted: boolean };
  try {
    started = await current.starting;
  } catch (error) {
    current.refs--;
    if (shared.get(key) === current) shared.delete(key);
    throw error;
  }
  let released = false;
  return {
    server: started.server,
    adopted: started.adopted,
    release: async () => {
      if (released) return;
      released = true;
      current.refs--;
      if (current.refs === 0 && shared.get(key) === current) {
        shared.delete(key);
        await started.server.stop();
      }
    },
  };
}

/** The file in a store where a long-lived server (`runner ui`) tells runs its address. */
export const SERVER_ADVERT_FILE = 'server.json';

interface Advert {
  uri: string;
  pid: number;
  host: string;
}

/** Tells runs on this machine that `server` serves its store (until the returned function is called). */
export function advertiseServer(server: MlflowServer): () => void {
  const file = join(server.storeDir, SERVER_ADVERT_FILE);
  const advert: Advert = { uri: server.uri, pid: server.pid, host: hostname() };
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(advert)}\n`);
  renameSync(temp, file);
  return () => {
    try {
      if ((JSON.parse(readFileSync(file, 'utf8')) as Advert).pid === server.pid) rmSync(file);
    } catch {
      // gone already
    }
  };
}

/**
 * The server advertised for this store, if its process is alive on this host and it answers /health. Its handle
 * does not own it: stop() only ends the watch; `exited` resolves once its process has ended. (Not when /health is
 * slow: a training step holds this process's event loop for seconds, which would make a healthy server look dead.)
 */
export async function findAdvertisedServer(storeDir: string): Promise<MlflowServer | undefined> {
  let advert: Advert;
  try {
    advert = JSON.parse(readFileSync(join(storeDir, SERVER_ADVERT_FILE), 'utf8')) as Advert;
  } catch {
    return undefined;
  }
  if (advert.host !== hostname() || !pidAlive(advert.pid) || !(await healthy(advert.uri))) return undefined;
  const url = new URL(advert.uri);
  let resolveExit!: (value: string) => void;
  const exited = new Promise<string>((r) => (resolveExit = r));
  const watch = setInterval(() => {
    if (pidAlive(advert.pid)) return;
    clearInterval(watch);
    resolveExit('process ended');
  }, 1000);
  watch.unref();
  return {
    uri: advert.uri,
    host: url.hostname,
    port: Number(url.port),
    storeDir,
    pid: advert.pid,
    logFile: join(storeDir, 'server.log'),
    exited,
    stop: async () => clearInterval(watch),
    kill: async () => {
      clearInterval(watch);
      try {
        process.kill(-advert.pid, 'SIGKILL');
      } catch {
        // gone
      }
      resolveExit('killed');
    },
  };
}

async function healthy(uri: string): Promise<boolean> {
  try {
    const res = await fetch(`${uri}/health`, { signal: AbortSignal.timeout(1500) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

import { dirname, join, resolve } from 'node:path';
import { type MlflowServer, startMlflowServer } from './server.ts';

/** The embedded store's folder for a run folder runs/<experiment>/<run-id>: runs/mlflow. */
export function defaultStoreDir(runDir: string): string {
  return join(dirname(dirname(resolve(runDir))), 'mlflow');
}

/** A share of a running local server; release it when done. */
export interface LocalServerLease {
  server: MlflowServer;
  /** Gives the share back; the last one stops the server. */
  release(): Promise<void>;
}

const shared = new Map<string, { starting: Promise<MlflowServer>; refs: number }>();

/**
 * A running `mlflow server` on the store in `storeDir`, started on a free loopback port on first use and
 * shared by every lease in this process (e.g. all trials of a sweep); stopped when the last lease is released.
 */
export async function acquireLocalServer(storeDir: string): Promise<LocalServerLease> {
  const key = resolve(storeDir);
  let entry = shared.get(key);
  if (!entry) {
    const created = { starting: startMlflowServer({ storeDir: key }), refs: 0 };
    shared.set(key, created);
    // A server that dies is forgotten, so the next acquire starts a fresh one.
    void created.starting.then((server) => server.exited).then(() => {
      if (shared.get(key) === created) shared.delete(key);
    }, () => {});
    entry = created;
  }
  entry.refs++;
  const current = entry;
  let server: MlflowServer;
  try {
    server = await current.starting;
  } catch (error) {
    current.refs--;
    if (shared.get(key) === current) shared.delete(key);
    throw error;
  }
  let released = false;
  return {
    server,
    release: async () => {
      if (released) return;
      released = true;
      current.refs--;
      if (current.refs === 0 && shared.get(key) === current) {
        shared.delete(key);
        await server.stop();
      }
    },
  };
}

import { resolve } from 'node:path';
import { parseCommandArgs } from '../cli-args.ts';
import { UserError } from '../errors.ts';
import { acquireLocalServer, type LocalServerLease } from '../tracking/local-store.ts';
import { freePort, INSTALL_HINT, MlflowNotInstalledError } from '../tracking/server.ts';
import type { Command } from './command.ts';

/** `runner ui`: serves the MLflow UI on the local store until Ctrl-C. */
export const command: Command = {
  help: `Usage: runner ui [--store <folder>] [--port <n>] [--host <address>]

Starts a real MLflow server (the project's pinned MLflow in .venv) on the local store that runs
are tracked to when neither MLFLOW_TRACKING_URI nor tracking.uri is set, prints its URL and
serves it until Ctrl-C. The store has one server, shared by every process that uses it: if runs
or a sweep on this store already started it, runner ui serves that one (at its address); while
runner ui runs, runs on this store use it (no server start-up of their own) and show up in the UI
live. Ctrl-C stops it unless runs still use it (the last of them stops it).

Options:
  --store <folder>  the store (default runs/mlflow)
  --port <n>        port (default 5000; a free one if 5000 is taken) when runner ui starts the server
  --host <address>  address to listen on (default 127.0.0.1, this machine only)`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs('ui', argv, {
      store: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
    });
    if (positionals.length > 0)
      throw new UserError(`runner ui takes no positional arguments (got ${positionals.join(' ')}). See 'runner ui --help'.`);
    const host = values.host ?? '127.0.0.1';
    let port = 5000;
    if (values.port !== undefined) {
      port = Number(values.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535)
        throw new UserError(`runner ui: --port must be a port number from 1 to 65535; got "${values.port}".`);
    } else if (!(await portFree(host, port))) {
      port = await freePort(host);
    }
    const storeDir = resolve(values.store ?? 'runs/mlflow');
    process.stderr.write(`Starting MLflow on ${storeDir} ...\n`);
    let lease: LocalServerLease;
    try {
      lease = await acquireLocalServer(storeDir, { host, port });
    } catch (error) {
      if (error instanceof MlflowNotInstalledError)
        throw new UserError(`MLflow is not installed. Install it with ${INSTALL_HINT}, then run runner ui again.`);
      throw new UserError(`The MLflow UI did not start: ${(error as Error).message}`);
    }
    const server = lease.server; // runs on this store use this server meanwhile
    if (lease.adopted) process.stderr.write(`The store is already served (for runs or a sweep on it); serving that server.\n`);
    process.stdout.write(`MLflow UI: ${server.uri}  (store: ${storeDir}; Ctrl-C to stop)\n`);
    const keepAlive = setInterval(() => {}, 1 << 30); // signal handlers alone do not keep Node running
    const outcome = await new Promise<'signal' | 'exited'>((resolveOutcome) => {
      const onSignal = () => resolveOutcome('signal');
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      void server.exited.then(() => resolveOutcome('exited'));
    });
    clearInterval(keepAlive);
    if (outcome === 'exited') {
      await lease.release();
      process.stderr.write(`runner: the MLflow server stopped on its own; see ${server.logFile}\n`);
      return 1;
    }
    process.stderr.write('Stopping MLflow (unless runs on the store still use it) ...\n');
    await lease.release();
    return 0;
  },
};

async function portFree(host: string, port: number): Promise<boolean> {
  const { createServer } = await import('node:net');
  return new Promise((resolveFree) => {
    const probe = createServer();
    probe.once('error', () => resolveFree(false));
    probe.listen(port, host, () => probe.close(() => resolveFree(true)));
  });
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MlflowServer, startMlflowServer } from '../../runner/tracking/server.ts';

/** An MLflow server for a test file: CI's (MLFLOW_TEST_TRACKING_URI) or one started here on a temp store. */
export interface TestServer {
  /** Base URL of the server. */
  uri: string;
  /** The process, when this helper started it (undefined for CI's server). */
  server: MlflowServer | undefined;
  /** Stops the server it started and removes its temp store (nothing for CI's server). */
  stop(): Promise<void>;
}

/** Uses MLFLOW_TEST_TRACKING_URI when set, else starts a real `mlflow server` on a free loopback port with a temp store. */
export async function getTestServer(): Promise<TestServer> {
  const external = process.env.MLFLOW_TEST_TRACKING_URI;
  if (external) return { uri: external.replace(/\/+$/, ''), server: undefined, stop: async () => {} };
  const storeDir = mkdtempSync(join(tmpdir(), 'runner-mlflow-test-'));
  const server = await startMlflowServer({ storeDir });
  return {
    uri: server.uri,
    server,
    stop: async () => {
      await server.stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

/** A name unique to this test process, for experiments that must not collide on a shared server. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
}

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { advertiseServer, findAdvertisedServer } from '../../../runner/tracking/local-store.ts';
import { startMlflowServer } from '../../../runner/tracking/server.ts';
import { tempDir } from '../../helpers/files.ts';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('an adopted server (runner ui, a sweep) is not taken for dead while it is slow to answer; it is once its process ends', async () => {
  const server = await startMlflowServer({ storeDir: join(tempDir(), 'mlflow') });
  const unadvertise = advertiseServer(server);
  try {
    const adopted = await findAdvertisedServer(server.storeDir);
    assert.ok(adopted, 'the advertised server is found');
    assert.is(adopted!.uri, server.uri);
    let exited: string | number | null | undefined;
    void adopted!.exited.then((why) => (exited = why));
    // A server busy with other runs' requests on a loaded machine (or this process's event loop held by long
    // training steps) may not answer /health for seconds: simulated by stopping its processes for 6 s.
    process.kill(-server.pid, 'SIGSTOP');
    try {
      await tick(6000);
    } finally {
      process.kill(-server.pid, 'SIGCONT');
    }
    assert.is(exited, undefined, 'a server that did not answer for 6 s but still runs is not taken for dead');
    assert.ok((await fetch(`${server.uri}/health`)).ok, 'and it answers again');
    await server.kill();
    const deadline = Date.now() + 10_000;
    while (exited === undefined && Date.now() < deadline) await tick(100);
    assert.is(exited, 'process ended');
    await adopted!.stop();
  } finally {
    unadvertise();
    await server.kill().catch(() => {});
  }
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { runCli } from '../../helpers/cli.ts';
import { tempDir } from '../../helpers/files.ts';

test('runner ui serves the MLflow UI on the store, prints its URL and stops cleanly on Ctrl-C', async () => {
  const store = join(tempDir(), 'mlflow');
  let url: string | undefined;
  let answered = false;
  const result = await runCli(['ui', '--store', store], {
    onStart(child) {
      let seen = '';
      const onData = async (chunk: Buffer) => {
        seen += chunk.toString();
        const match = /http:\/\/127\.0\.0\.1:\d+/.exec(seen);
        if (!match || url) return;
        url = match[0];
        try {
          answered = (await fetch(`${url}/health`)).ok && (await fetch(url)).ok;
        } finally {
          child.kill('SIGINT');
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
    },
  });
  assert.ok(url, `no URL printed: ${result.stdout}${result.stderr}`);
  assert.ok(answered, 'the UI answered');
  assert.is(result.code, 0, result.stderr);
});

test('runner ui: a bad --port is a usage error', async () => {
  const result = await runCli(['ui', '--port', 'eighty']);
  assert.is(result.code, 2);
  assert.match(result.stderr, '--port must be a port number');
});

test.run();

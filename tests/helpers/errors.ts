import * as assert from 'uvu/assert';
import { ConfigKeyError } from '../../runner/config/issues.ts';

/** Checks that `body` throws (or rejects with) a ConfigKeyError at `path` whose message matches `pattern`. */
export async function rejectsAtKey(body: () => unknown, path: (string | number)[], pattern: RegExp): Promise<void> {
  try {
    await body();
  } catch (error) {
    assert.instance(error, ConfigKeyError, String(error));
    assert.equal((error as ConfigKeyError).path, path);
    assert.match((error as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected a ConfigKeyError matching ${pattern}`);
}

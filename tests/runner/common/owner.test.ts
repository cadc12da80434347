import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { currentOwner, ownerState, readOwner, writeOwner } from '../../../runner/common/owner.ts';
import { tempDir } from '../../helpers/files.ts';

test('owner.json names this process; another live process on this host is alive, an ended one gone', async () => {
  const dir = tempDir();
  writeOwner(dir);
  const owner = readOwner(dir)!;
  assert.equal(owner, JSON.parse(readFileSync(`${dir}/owner.json`, 'utf8')));
  assert.is(owner.pid, process.pid);
  assert.is(owner.host, hostname());
  assert.ok(Math.abs(owner.started! - (Date.now() - process.uptime() * 1000)) < 1000);
  assert.is(ownerState(owner), 'gone', 'this process is not running the work it inspects');

  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('spawn', resolve));
  const live = { pid: child.pid!, host: hostname() };
  assert.is(ownerState(live), 'alive');
  if (existsSync(`/proc/${child.pid}/stat`)) {
    const ticks = Number(readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]);
    assert.is(ownerState({ ...live, start_ticks: ticks }), 'alive');
    assert.is(ownerState({ ...live, start_ticks: ticks - 1 }), 'gone', 'the pid now belongs to a later process');
  }
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  assert.is(ownerState(live), 'gone');
  assert.is(ownerState({ ...live, host: 'another-host' }), 'elsewhere');
  assert.is(currentOwner().pid, process.pid);
  assert.is(readOwner(tempDir()), undefined);
});

test.run();

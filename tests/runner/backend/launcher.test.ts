// bin/runner.js: the re-exec that puts the CUDA libraries on LD_LIBRARY_PATH before Node starts,
// and the hand-over to runner/cli.ts. Runs the real launcher in a throw-away project whose
// runner/cli.ts reports what it sees.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from './helpers.ts';

const CLI = `
export async function main(argv: string[]): Promise<number> {
  const seen = () => console.log(JSON.stringify({ argv, pid: process.pid, ppid: process.ppid,
    ld: process.env.LD_LIBRARY_PATH ?? '', reexeced: process.env.RUNNER_REEXECED ?? null }));
  if (argv[0] === 'wait') {
    const keep = setInterval(() => {}, 1000);
    return new Promise<number>((resolve) => {
      for (const s of ['SIGINT', 'SIGTERM'] as const) {
        process.on(s, () => { clearInterval(keep); console.log('got ' + s); resolve(s === 'SIGINT' ? 130 : 143); });
      }
      seen(); // only once the handlers are in place: the test signals as soon as it reads this
    });
  }
  seen();
  if (argv[0] === 'die') process.kill(process.pid, 'SIGKILL');
  if (argv[0] === 'throw') throw Object.assign(new Error('bad input here'), { exitCode: 2 });
  return Number(argv[0] ?? 0);
}
`;

interface Seen {
  argv: string[];
  pid: number;
  ppid: number;
  ld: string;
  reexeced: string | null;
}

/** A project with the real bin/runner.js, a reporting runner/cli.ts and, if asked, CUDA folders. */
function project(withCuda: boolean): { dir: string; cudaDirs: string[]; remove: () => void } {
  const t = tempDir('runner-launcher-');
  mkdirSync(join(t.dir, 'bin'));
  mkdirSync(join(t.dir, 'runner'));
  mkdirSync(join(t.dir, 'node_modules'));
  copyFileSync(join(ROOT, 'bin/runner.js'), join(t.dir, 'bin/runner.js'));
  writeFileSync(join(t.dir, 'package.json'), '{ "type": "module" }');
  writeFileSync(join(t.dir, 'runner/cli.ts'), CLI);
  symlinkSync(join(ROOT, 'node_modules/tsx'), join(t.dir, 'node_modules/tsx'));
  const cudaDirs: string[] = [];
  if (withCuda) {
    // as setup-tensorflow.sh --gpu lays it out: deps/nvidia links to the cache's nvidia/*/lib
    const cache = join(t.dir, 'cache/nvidia');
    for (const name of ['cublas', 'cudnn']) {
      mkdirSync(join(cache, name, 'lib'), { recursive: true });
      cudaDirs.push(join(realpathSync(cache), name, 'lib'));
    }
    mkdirSync(join(t.dir, 'node_modules/@tensorflow/tfjs-node-gpu/deps'), { recursive: true });
    symlinkSync(cache, join(t.dir, 'node_modules/@tensorflow/tfjs-node-gpu/deps/nvidia'));
  }
  return { dir: t.dir, cudaDirs, remove: t.remove };
}

function runSync(dir: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [join(dir, 'bin/runner.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, RUNNER_REEXECED: '', RUNNER_NO_REEXEC: '', ...env },
    timeout: 30_000,
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  return { ...r, seen: (line ? JSON.parse(line) : undefined) as Seen | undefined };
}

test('no CUDA libraries laid out: no second process, argv and exit code go through', () => {
  const p = project(false);
  try {
    const r = runSync(p.dir, ['7', '--flag', 'a b']);
    assert.is(r.status, 7, r.stderr);
    assert.equal(r.seen?.argv, ['7', '--flag', 'a b']);
    assert.is(r.seen?.reexeced, '');
    assert.is(r.seen?.pid, r.pid, 'main ran in the process that was started');
  } finally {
    p.remove();
  }
});

test('CUDA libraries laid out, LD_LIBRARY_PATH without them: one re-exec with them first', () => {
  const p = project(true);
  try {
    const r = runSync(p.dir, ['5', 'x'], { LD_LIBRARY_PATH: '/opt/elsewhere' });
    assert.is(r.status, 5, r.stderr);
    assert.equal(r.seen?.argv, ['5', 'x']);
    assert.is(r.seen?.reexeced, '1');
    assert.is(r.seen?.ppid, r.pid, 'main ran in a child of the started process');
    assert.is(r.seen?.ld, [...p.cudaDirs, '/opt/elsewhere'].join(':'));
  } finally {
    p.remove();
  }
});

test('CUDA folders already on LD_LIBRARY_PATH, or RUNNER_NO_REEXEC=1: no re-exec', () => {
  const p = project(true);
  try {
    const already = runSync(p.dir, ['0'], { LD_LIBRARY_PATH: p.cudaDirs.join(':') });
    assert.is(already.status, 0, already.stderr);
    assert.is(already.seen?.pid, already.pid);
    const off = runSync(p.dir, ['0'], { RUNNER_NO_REEXEC: '1' });
    assert.is(off.seen?.pid, off.pid);
  } finally {
    p.remove();
  }
});

test('main throwing: its message, its exit code', () => {
  const p = project(false);
  try {
    const r = runSync(p.dir, ['throw']);
    assert.is(r.status, 2);
    assert.match(r.stderr, /bad input here/);
  } finally {
    p.remove();
  }
});

test("re-exec'd child killed by a signal: the launcher ends by the same signal", () => {
  const p = project(true);
  try {
    const r = runSync(p.dir, ['die']);
    assert.is(r.signal, 'SIGKILL');
  } finally {
    p.remove();
  }
});

/** Starts the launcher in `wait` mode, sends `signal` to the launcher's pid once main runs. */
function signalled(dir: string, signal: NodeJS.Signals): Promise<{ code: number | null; out: string; seen: Seen }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(dir, 'bin/runner.js'), 'wait'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, RUNNER_REEXECED: '', RUNNER_NO_REEXEC: '' },
    });
    let out = '';
    let seen: Seen | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no exit after ${signal}: ${out}`));
    }, 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line && !seen) {
        seen = JSON.parse(line) as Seen;
        child.kill(signal);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, seen: seen! });
    });
  });
}

test("SIGTERM and SIGINT sent to the launcher reach the re-exec'd run, whose exit code comes back", async () => {
  const p = project(true);
  try {
    for (const [signal, code] of [
      ['SIGTERM', 143],
      ['SIGINT', 130],
    ] as const) {
      const r = await signalled(p.dir, signal);
      assert.is(r.seen.reexeced, '1');
      assert.match(r.out, new RegExp(`got ${signal}`));
      assert.is(r.code, code, r.out);
    }
  } finally {
    p.remove();
  }
});

test.run();

// Runs every tests/**/*.test.ts with uvu (one process, in file order) and ends with the plain
// closing line "N passed, N failed, N skipped" that CI tools read. Extra arguments go to uvu (e.g. a pattern).
// Tests that need the native backend are skipped without it; under CI (CI=true), where it is installed, a skipped
// test fails the run.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const child = spawn(
  process.execPath,
  ['--import', 'tsx', 'node_modules/uvu/bin.js', 'tests', args[0] ?? '\\.test\\.ts$', ...args.slice(1)],
  {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
let tail = '';
child.stdout.on('data', (chunk: Buffer) => {
  process.stdout.write(chunk);
  tail = (tail + chunk.toString()).slice(-2000);
});
child.on('close', (code, signal) => {
  const plain = tail.replace(/\u001b\[[0-9;]*m/g, '');
  const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  process.stdout.write(`\n${passed} passed, ${total - passed - skipped} failed, ${skipped} skipped\n`);
  const skippedInCi = process.env.CI === 'true' && skipped > 0;
  if (skippedInCi) process.stdout.write(`${skipped} skipped under CI: the native backend should be there (npm run setup:tensorflow)\n`);
  process.exitCode = signal ? 1 : (code ?? 1) || (total === 0 || skippedInCi ? 1 : 0);
});

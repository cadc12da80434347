import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { findCycles, importsOf, sourceFiles, type ImportEdge } from '../helpers/imports.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const edges = sourceFiles(root, ['runner', 'components']).flatMap((file) => importsOf(root, file));

/** Layers from the bottom: every other folder (config, registry, data, train, tracking, backend, common, components) is 0. */
function layer(file: string): number {
  if (file === 'runner/cli.ts') return 5;
  const top = /^runner\/(run|sweep|watch|commands)\//.exec(file)?.[1];
  return top === undefined ? 0 : { run: 1, sweep: 2, watch: 3, commands: 4 }[top]!;
}

const describe = (e: ImportEdge) => `${e.from} imports ${e.to}${e.dynamic ? ' (dynamic import)' : ''}`;

test('the walker sees static, type-only, re-export and dynamic imports', () => {
  const cli = importsOf(root, 'runner/cli.ts').map((e) => e.to);
  assert.ok(cli.includes('runner/commands/index.ts'), cli.join(', '));
  const table = importsOf(root, 'runner/commands/index.ts');
  assert.ok(table.some((e) => e.dynamic && e.to === 'runner/commands/run.ts'));
  assert.ok(importsOf(root, 'runner/sweep/errors.ts').some((e) => e.to === 'runner/common/yaml-path.ts'));
});

test('the cycle finder finds a cycle and only cycles', () => {
  const e = (from: string, to: string): ImportEdge => ({ from, to, dynamic: false });
  assert.equal(findCycles([e('a', 'b'), e('b', 'c'), e('c', 'a')]), [['a', 'b', 'c', 'a']]);
  assert.equal(findCycles([e('a', 'b'), e('a', 'c'), e('b', 'c')]), []);
});

test('no import cycle among the runner and component sources (static or dynamic)', () => {
  const cycles = findCycles(edges);
  assert.equal(
    cycles.map((c) => c.join(' -> ')),
    [],
  );
});

test('no module imports a higher layer (lower layers < run < sweep < watch < commands < cli)', () => {
  const upward = edges.filter((e) => layer(e.to) > layer(e.from)).map(describe);
  assert.equal(upward, []);
});

test('runner --version and --help load no command module', () => {
  const cli = edges.filter((e) => e.from === 'runner/cli.ts' && !e.dynamic).map((e) => e.to);
  assert.equal(
    cli.filter((to) => /^runner\/commands\/(?!index\.ts)/.test(to)),
    [],
  );
  const table = edges.filter((e) => e.from === 'runner/commands/index.ts' && !e.dynamic).map((e) => e.to);
  assert.equal(table, ['runner/commands/command.ts']); // its Command type only
});

test.run();

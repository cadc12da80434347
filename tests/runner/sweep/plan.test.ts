import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { trialIndex } from '../../../runner/commands/sweep.ts';
import { ConfigDiagnosticsError, formatDiagnostics } from '../../../runner/config/diagnostics.ts';
import { loadConfig, parseSetOption } from '../../../runner/config/load.ts';
import { UserError } from '../../../runner/errors.ts';
import { configHash } from '../../../runner/common/provenance.ts';
import { planTable } from '../../../runner/sweep/display.ts';
import { emitKubernetes, emitSlurm, emitWarnings, jobName } from '../../../runner/sweep/emit.ts';
import { SweepFolder } from '../../../runner/sweep/folder.ts';
import { hasSweep, planSweep, type SweepPlan } from '../../../runner/sweep/plan.ts';
import { trialProcessEnv } from '../../../runner/sweep/run-sweep.ts';
import { bestTrial, leaderboard, type TrialProgress } from '../../../runner/sweep/state.ts';
import { tempDir, writeTree } from '../../helpers/files.ts';
import { sweepFile } from './fixture.ts';

const MATRIX = `  matrix:
    optimizer.lr: [0.01, 0.001]
    model.kernel_sizes: [[2], [3]]
    include:
      - optimizer.lr: 0.0005
        train.epochs: 2
  metric: {name: test_accuracy, goal: maximize}
  max_parallel: 2`;

/** The diagnostics of a plan that must fail, as printed. */
function planProblems(file: string): { error: ConfigDiagnosticsError; text: string } {
  try {
    planSweep(file);
  } catch (error) {
    assert.instance(error, ConfigDiagnosticsError);
    return {
      error: error as ConfigDiagnosticsError,
      text: formatDiagnostics((error as ConfigDiagnosticsError).diagnostics, { color: false }),
    };
  }
  assert.unreachable('the plan should have failed');
  throw new Error('unreachable');
}

test('every trial is resolved and hashed exactly as runner run would load it', () => {
  const file = sweepFile(tempDir(), { name: 'plan', uri: false, sweep: MATRIX });
  const plan = planSweep(file);
  assert.is(plan.trials.length, 5);
  assert.equal(
    plan.trials.map((t) => t.label),
    [
      'optimizer.lr=0.01 model.kernel_sizes=[2]',
      'optimizer.lr=0.01 model.kernel_sizes=[3]',
      'optimizer.lr=0.001 model.kernel_sizes=[2]',
      'optimizer.lr=0.001 model.kernel_sizes=[3]',
      'optimizer.lr=0.0005 train.epochs=2',
    ],
  );
  const sets = [
    ['optimizer.lr=0.001', 'model.kernel_sizes=[3]'],
    ['optimizer.lr=0.0005', 'train.epochs=2'],
  ];
  for (const [trial, set] of [
    [plan.trials[3]!, sets[0]!],
    [plan.trials[4]!, sets[1]!],
  ] as const) {
    const expected = loadConfig(file, set.map(parseSetOption)).config;
    assert.is(trial.hash, configHash(expected));
    assert.not.ok('sweep' in trial.config);
  }
  assert.is(plan.trials[4]!.config.train.epochs, 2);
  assert.is(plan.sweep!.max_parallel, 2);
  assert.is(plan.tracking.enabled, false);
  assert.match(plan.hash, /^[0-9a-f]{64}$/);
  assert.is(new Set(plan.trials.map((t) => t.hash)).size, 5);
  assert.ok(hasSweep(file));
});

test("a trial's config file loads back to the same config hash (what its process runs)", () => {
  const dir = tempDir();
  const plan = planSweep(sweepFile(dir, { name: 'roundtrip', uri: false, sweep: MATRIX }));
  const folder = new SweepFolder(join(dir, 'runs'), plan).prepare();
  for (const trial of plan.trials) {
    const loaded = loadConfig(folder.writeTrialConfig(trial));
    assert.is(configHash(loaded.config), trial.hash);
  }
  const matrix = parse(readFileSync(folder.path('matrix.yaml'), 'utf8')) as { sweep: unknown; trials: unknown[] };
  assert.ok(matrix.sweep);
  assert.is(matrix.trials.length, 5);
});

test('the sweep hash depends on the trials, not on max_parallel or fail_fast', () => {
  const dir = tempDir();
  const a = planSweep(sweepFile(dir, { name: 'hash', uri: false, sweep: MATRIX, file: 'a.yaml' }));
  const b = planSweep(
    sweepFile(dir, {
      name: 'hash',
      uri: false,
      sweep: MATRIX.replace('max_parallel: 2', 'max_parallel: 1\n  fail_fast: true'),
      file: 'b.yaml',
    }),
  );
  const c = planSweep(sweepFile(dir, { name: 'hash', uri: false, sweep: MATRIX, file: 'c.yaml', train: '{epochs: 3}' }));
  assert.is(a.hash, b.hash);
  assert.is.not(a.hash, c.hash);
  assert.equal(a.trials.map((t) => t.hash).slice(0, 4), b.trials.map((t) => t.hash).slice(0, 4));
});

test('one invalid trial fails the whole plan, located at the sweep value that made it invalid', () => {
  const file = sweepFile(tempDir(), {
    name: 'invalid',
    uri: false,
    sweep: `  matrix:
    optimizer.lr: [0.01, -1]
    train.epochs: [1]`,
  });
  const { error, text } = planProblems(file);
  assert.is(error.exitCode, 2);
  assert.is(error.diagnostics.length, 1);
  const lines = readFileSync(file, 'utf8').split('\n');
  const line = lines.findIndex((l) => l.includes('optimizer.lr: [0.01, -1]')) + 1;
  assert.match(text, `${file}:${line}:`);
  assert.match(text, 'optimizer.lr');
  assert.match(text, 'trial 1 of the sweep');
  assert.match(text, '> ');
});

test('a problem of the base config shared by every trial is reported once; a base that only trials complete is fine', () => {
  const dir = tempDir();
  const shared = sweepFile(dir, {
    name: 'base',
    uri: false,
    file: 'shared.yaml',
    train: '{epochs: 0}',
    sweep: '  matrix:\n    optimizer.lr: [0.01, 0.02]',
  });
  const { error, text } = planProblems(shared);
  assert.is(error.diagnostics.length, 1);
  assert.match(text, 'every trial (2)');
  assert.match(text, `${shared}:9:`);
  // train.epochs 0 is invalid on its own, but every trial sets it: the sweep is valid.
  const completed = sweepFile(dir, {
    name: 'base',
    uri: false,
    file: 'completed.yaml',
    train: '{epochs: 0}',
    sweep: '  matrix:\n    train.epochs: [1, 2]',
  });
  assert.equal(
    planSweep(completed).trials.map((t) => t.config.train.epochs),
    [1, 2],
  );
});

test('a bad sweep block is located in the file; a path into a short list is located at the sweep value', () => {
  const dir = tempDir();
  const bad = sweepFile(dir, { name: 'bad', uri: false, file: 'bad.yaml', sweep: '  matrix:\n    optimizer.lr: 0.01' });
  const { text } = planProblems(bad);
  assert.match(text, `${bad}:13:`);
  assert.match(text, 'must be a list');
  const index = sweepFile(dir, { name: 'bad', uri: false, file: 'index.yaml', sweep: '  matrix:\n    model.kernel_sizes.3: [5]' });
  const indexProblem = planProblems(index).text;
  assert.match(indexProblem, `${index}:13:`);
  assert.match(indexProblem, 'list of 1 items');
});

test('a sweep block in an extended file is found; trials that resolve to the same config run once', () => {
  const dir = tempDir();
  sweepFile(dir, {
    name: 'dup',
    uri: false,
    file: 'base.yaml',
    sweep: '  matrix:\n    optimizer.lr: [0.01, 0.02]\n    include:\n      - optimizer.lr: 0.01\n        seed: 3',
  });
  writeTree(dir, { 'child.yaml': 'extends: base.yaml\nseed: 3\n' });
  const plan = planSweep(join(dir, 'child.yaml'));
  assert.is(plan.trials.length, 2);
  assert.equal(plan.files, [join(dir, 'child.yaml'), join(dir, 'base.yaml')]);
  const dups = planSweep(sweepFile(dir, { name: 'dup', uri: false, file: 'dups.yaml', sweep: '  matrix:\n    seed: [3, 3, 4]' }));
  assert.equal(
    dups.trials.map((t) => t.duplicateOf),
    [undefined, 0, undefined],
  );
  assert.match(planTable(dups.trials), 'same config as #0: runs once');
});

test('runner sweep on a config without a sweep block is a UserError; watch plans it as one trial', () => {
  const dir = tempDir();
  writeTree(dir, {
    'plain.yaml': readFileSync(sweepFile(dir, { name: 'plain', uri: false, sweep: '  matrix:\n    seed: [1]' }), 'utf8').replace(
      /sweep:[\s\S]*$/,
      '',
    ),
  });
  const file = join(dir, 'plain.yaml');
  assert.throws(
    () => planSweep(file, { requireSweep: true }),
    (error: unknown) => error instanceof UserError && /has no sweep: block/.test((error as Error).message),
  );
  const plan = planSweep(file);
  assert.is(plan.trials.length, 1);
  assert.is(plan.sweep, undefined);
  assert.is(plan.trials[0]!.hash, configHash(loadConfig(file).config));
});

test('trials may not change where they are tracked', () => {
  const file = sweepFile(tempDir(), { name: 'track', uri: 'http://127.0.0.1:1', sweep: '  matrix:\n    tracking.experiment: [a, b]' });
  assert.throws(() => planSweep(file), /same tracking server and experiment/);
});

test('--trial K, JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID; out of range is a UserError', () => {
  const plan = { trials: [{}, {}, {}] } as unknown as SweepPlan;
  assert.is(trialIndex(undefined, plan, {}), undefined);
  assert.is(trialIndex('2', plan, { JOB_COMPLETION_INDEX: '0' }), 2);
  assert.is(trialIndex(undefined, plan, { JOB_COMPLETION_INDEX: '1', SLURM_ARRAY_TASK_ID: '2' }), 1);
  assert.is(trialIndex(undefined, plan, { SLURM_ARRAY_TASK_ID: '2' }), 2);
  assert.throws(() => trialIndex(undefined, plan, { SLURM_ARRAY_TASK_ID: '3' }), /numbered 0 to 2.*--array=0-2/);
  assert.throws(() => trialIndex('x', plan, {}), /--trial is "x"/);
});

test('--emit: an Indexed Job with one completion per trial, a Slurm array 0..N-1 with max_parallel', () => {
  const dir = tempDir();
  const plan = planSweep(sweepFile(dir, { name: 'Emit_Me', uri: false, sweep: MATRIX }));
  const options = {
    configFile: 'sweep.yaml',
    cwd: dir,
    root: dir,
    runsDir: join(dir, 'runs'),
    bin: join(dir, 'bin', 'runner.js'),
    image: 'img:1',
  };
  const job = parse(emitKubernetes(plan, options)) as {
    kind: string;
    metadata: { name: string };
    spec: {
      completionMode: string;
      completions: number;
      parallelism: number;
      template: { spec: { containers: { image: string; command: string[] }[] } };
    };
  };
  assert.is(job.kind, 'Job');
  assert.equal([job.spec.completionMode, job.spec.completions, job.spec.parallelism], ['Indexed', 5, 2]);
  // Paths relative to the project root, where the image's command runs: none of this machine's absolute paths.
  assert.equal(job.spec.template.spec.containers[0]!.command, ['node', 'bin/runner.js', 'sweep', 'sweep.yaml']);
  assert.not.match(emitKubernetes(plan, { ...options, cwd: join(dir, 'runs'), configFile: '../sweep.yaml' }), dir);
  assert.throws(() => emitKubernetes(plan, { ...options, root: join(dir, 'bin') }), /the config file .* is outside the project/);
  assert.is(job.spec.template.spec.containers[0]!.image, 'img:1');
  assert.match(job.metadata.name, /^runner-sweep-emit-me-[0-9a-f]{8}$/);
  assert.ok(jobName(plan).length <= 63);
  const slurm = emitSlurm(plan, options);
  assert.match(slurm, /^#!\/bin\/bash\n/);
  assert.match(slurm, '#SBATCH --array=0-4%2\n');
  assert.match(slurm, 'cd "$SLURM_SUBMIT_DIR"\nexec node bin/runner.js sweep sweep.yaml --runs-dir runs\n');
  assert.not.match(slurm, dir);
  assert.match(emitWarnings(plan, {}, 'k8s').join(' '), 'tracking is off');
  const tracked = planSweep(sweepFile(dir, { name: 'emit2', uri: 'http://mlflow.example:5000', sweep: MATRIX, file: 'tracked.yaml' }));
  assert.equal(emitWarnings(tracked, { image: 'x' }, 'k8s'), []);
});

test('parallel trials get cores / max_parallel TensorFlow threads; set variables are kept', () => {
  assert.equal(trialProcessEnv(1, 0, 'cpu', {}), {});
  const env = trialProcessEnv(2, 0, 'cpu', {});
  assert.is(env.TF_NUM_INTEROP_THREADS, '1');
  assert.ok(Number(env.TF_NUM_INTRAOP_THREADS) >= 1);
  assert.is(trialProcessEnv(2, 0, 'cpu', { TF_NUM_INTRAOP_THREADS: '8' }).TF_NUM_INTRAOP_THREADS, undefined);
  assert.is(trialProcessEnv(2, 0, 'gpu', {}).TF_FORCE_GPU_ALLOW_GROWTH, 'true');
});

test('leaderboard: best first by the goal; trials without a value last', () => {
  const trial = (index: number, state: TrialProgress['state'], value?: number): TrialProgress =>
    ({
      trial: { index, label: `t${index}` },
      state,
      epochs: 1,
      metrics: value === undefined ? undefined : { loss: value },
    }) as unknown as TrialProgress;
  const trials = [trial(0, 'finished', 0.5), trial(1, 'failed'), trial(2, 'done', 0.2), trial(3, 'finished', 0.9)];
  assert.equal(
    leaderboard(trials, { name: 'loss', goal: 'minimize' }).map((t) => t.trial.index),
    [2, 0, 3, 1],
  );
  assert.equal(
    leaderboard(trials, { name: 'loss', goal: 'maximize' }).map((t) => t.trial.index),
    [3, 0, 2, 1],
  );
  assert.is(bestTrial([trial(1, 'failed')], { name: 'loss', goal: 'minimize' }), undefined);
});

test("ranking: sweep.metric, else the trials' monitor at their kept epoch (best_val_loss); a test metric is warned about", () => {
  const sweep = (metric: string, train = '{epochs: 1}') =>
    planSweep(
      sweepFile(tempDir(), {
        name: 'ranking',
        uri: false,
        train,
        sweep: `  matrix:\n    optimizer.lr: [0.01, 0.02]\n${metric}`,
      }),
    );
  const withValidation = (metric: string, train = '{epochs: 1}') => {
    const dir = tempDir();
    const file = sweepFile(dir, { name: 'ranking', uri: false, train, sweep: `  matrix:\n    optimizer.lr: [0.01, 0.02]\n${metric}` });
    writeTree(dir, {
      'sweep.yaml': readFileSync(file, 'utf8').replace('  max_len: 24\n', '  max_len: 24\n  validation: {fraction: 0.2}\n'),
    });
    return planSweep(file);
  };
  const validated = withValidation('');
  assert.equal([validated.metric, validated.warnings], [{ name: 'best_val_loss', goal: 'minimize' }, []]);
  const monitored = withValidation('', '{epochs: 1, monitor: {metric: val_accuracy}}');
  assert.equal(monitored.metric, { name: 'best_val_accuracy', goal: 'maximize' });
  const none = sweep('');
  assert.equal(none.metric, { name: 'test_accuracy', goal: 'maximize' });
  assert.match(none.warnings[0]!, 'the trials have no validation split, so they are ranked by test_accuracy');
  const chosen = withValidation('  metric: {name: test_accuracy, goal: maximize}');
  assert.match(
    chosen.warnings[0]!,
    'sweep.metric test_accuracy ranks the trials on the test split: that tunes hyperparameters on the test set',
  );
});

test.run();

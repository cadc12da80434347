// Checkpoint cost against the training it interrupts, and the overhead of a resume, in one run:
//   node --import tsx bench/checkpoint.ts [--config configs/textcnn.yaml] [--steps 40] [--rounds 5]
// Goals: writing a checkpoint costs ≤ 2 % of an IMDb TextCNN epoch; resuming starts training within 5 s
// plus the data load.
// The experiment is built as `runner run` builds it (loadConfig, buildExperiment inside withSeededMathRandom
// on the native CPU backend): for configs/textcnn.yaml IMDb from the .tar.gz, 22,500 training reviews after
// the 10 % validation hold-out, a ~43k-word vocabulary, two 100-d embeddings (one frozen), Adam.
// Peer, measured in the same run: the training step. Each round trains `--steps` steps through trainLoop
// (maxStepsPerEpoch = steps, one epoch; its epoch_time_s) and extrapolates an epoch's training time
// = seconds per step × steps per epoch (ceil(train count / batch size)). The evaluation after that epoch
// runs on the first rows of the validation (and, with eval_test_every_epoch, test) split and is
// extrapolated to the whole splits. Then, in the same round, what the loop does after every epoch:
// CheckpointStore.save('last', model weights + optimizer slots, a training state) and copy('last', 'best')
// into a folder under the OS temp dir; and what a resume does: load('last') and assign the weights and
// slots (assignStored, in the loop's order), and their first use (tfjs-node copies assigned values into
// TensorFlow lazily, so that copy is timed with a sum over every variable). The model build is
// buildExperiment's time minus its data preparation (data.dataSeconds). Reports medians over rounds,
// per-round ratios, a table and one JSON line. A warm-up round (2 steps, one save/copy/load/assign, which
// also checks that the checkpoint reads back identical) comes first, printed but not counted.
// The checkpoint is read back from the page cache (it was just written); a resume after a reboot reads it
// from disk. Load average ≥ 1.5 at the start: other work shares the cores and the ratios do not count.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { describeBackend, selectBackend } from '../runner/backend/select.ts';
import { resolveLifecycle } from '../runner/config/lifecycle.ts';
import { loadConfig } from '../runner/config/load.ts';
import type { BatchSource } from '../runner/data/batches.ts';
import type { PreparedData } from '../runner/data/types.ts';
import { buildExperiment, disposeBuilt, runScheduler, type BuiltExperiment } from '../runner/run/build.ts';
import { configHash } from '../runner/common/provenance.ts';
import type { RunCheckpointInfo } from '../runner/run/run-experiment.ts';
import { CheckpointStore, type LoadedCheckpoint, type NamedTensor } from '../runner/train/checkpoint.ts';
import {
  checkpointTensors,
  modelVariables,
  restoreCheckpointTensors,
  stepsPerEpoch,
  trainLoop,
  type TrainingState,
} from '../runner/train/loop.ts';
import { seededRandom, withSeededMathRandom, type RandomStream } from '../runner/train/random.ts';
import { ModelSelection } from '../runner/train/selection.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opts } = parseArgs({
  options: {
    config: { type: 'string', default: join(root, 'configs/textcnn.yaml') },
    steps: { type: 'string', default: '40' },
    rounds: { type: 'string', default: '5' },
  },
});
const STEPS = Number(opts.steps);
const ROUNDS = Number(opts.rounds);
if (!(Number.isInteger(STEPS) && STEPS >= 1 && Number.isInteger(ROUNDS) && ROUNDS >= 1)) {
  throw new Error(`--steps and --rounds take whole numbers ≥ 1 (got ${opts.steps}, ${opts.rounds})`);
}
const QUIET_LOAD = 1.5;
const GOAL_PERCENT = 2;
const GOAL_RESUME_S = 5;

const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const range = (xs: number[], digits: number): string => `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;
/** Seconds with a precision that suits them (3 significant digits below 10 s). */
const secs = (x: number): string => (x >= 10 ? x.toFixed(1) : x.toPrecision(3));
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

/** Seconds taken by `fn`, and its result. */
async function timed<T>(fn: () => Promise<T> | T): Promise<[number, T]> {
  const t0 = performance.now();
  const value = await fn();
  return [(performance.now() - t0) / 1000, value];
}

/** The first `n` examples of a split (for a cheap evaluation); disposing it leaves the split alone. */
function firstRows(source: BatchSource, n: number): BatchSource {
  const count = Math.min(n, source.count);
  return {
    count,
    labels: source.labels.subarray(0, count),
    batch: (indices, training) => source.batch(indices, training),
    dispose: () => {},
  };
}

/** What one round measured. */
interface Round {
  stepS: number;
  /** Evaluation seconds per example (validation and test rows as the epoch evaluates them). */
  evalPerExampleS: number;
  saveS: number;
  copyS: number;
  loadS: number;
  assignS: number;
  /** The assigned values' first use (their copy into TensorFlow). */
  uploadS: number;
  bytes: number;
  load: string;
}

const loadAtStart = loadavg()[0]!;
console.log(`bench/checkpoint: ${availableParallelism()} cores, load average ${load()} at the start`);
if (loadAtStart >= QUIET_LOAD) {
  console.log(
    `WARNING: load average ${loadAtStart.toFixed(1)} ≥ ${QUIET_LOAD}: other work shares the cores; the times below follow it and the ratios of this run do not count.`,
  );
}
const [backendS, backend] = await timed(() => selectBackend('cpu'));
if (backend.kind === 'pure-js') throw new Error(`the native backend did not load: ${describeBackend(backend)}`);
console.log(
  `backend: ${describeBackend(backend)} (selected in ${backendS.toFixed(2)} s); tfjs ${tf.version.tfjs}; node ${process.version}`,
);

const loaded = loadConfig(resolve(opts.config!));
const { config } = loaded;
const context = { configDir: dirname(loaded.file), warn: (m: string) => console.warn(`warning: ${m}`) };
const lifecycle = resolveLifecycle(config);
const tensorsAtStart = tf.memory().numTensors;
const folder = mkdtempSync(join(tmpdir(), 'runner-bench-checkpoint-'));
const store = new CheckpointStore(folder);
console.log(`config ${loaded.file}; ${STEPS} steps × ${ROUNDS} rounds; checkpoints in ${store.dir}`);

const result = await withSeededMathRandom(config.seed, async (mathRandom) => {
  const [buildS, built] = await timed(() => buildExperiment(config, context));
  try {
    return await measure(built, buildS, mathRandom);
  } finally {
    disposeBuilt(built);
  }
}).finally(() => rmSync(folder, { recursive: true, force: true }));
const tensorsAtEnd = tf.memory().numTensors;
const loadAtEnd = loadavg()[0]!;
report();

async function measure(built: BuiltExperiment, buildS: number, mathRandom: RandomStream) {
  const { data, model, optimizer } = built;
  const batchSize = config.data.batch_size;
  const evalBatchSize = config.data.eval_batch_size ?? batchSize * 4;
  const fullSteps = stepsPerEpoch(data.train.count, { batchSize, maxStepsPerEpoch: config.train.max_steps_per_epoch });
  const evalTest = config.train.eval_test_every_epoch === true;
  const epochEvalExamples = (data.validation?.count ?? 0) + (evalTest ? data.test.count : 0);
  const sample = evalBatchSize * 2;
  const evalData: PreparedData = {
    ...data,
    validation: data.validation && firstRows(data.validation, sample),
    test: firstRows(data.test, sample),
  };
  const sampledEvalExamples = (evalData.validation?.count ?? 0) + (evalTest ? evalData.test.count : 0);
  const [schedulerS, scheduler] = await timed(() => runScheduler(config, built, context, lifecycle.monitor?.goal));
  const modelBuildS = buildS - data.dataSeconds + schedulerS;
  console.log(
    `data: ${data.train.count} train / ${data.validation?.count ?? 0} validation / ${data.test.count} test, ` +
      `vocabulary ${data.vocab?.size ?? '-'}, prepared in ${secs(data.dataSeconds)} s; ` +
      `model + optimizer built in ${secs(modelBuildS)} s; batch ${batchSize}, ${fullSteps} steps per epoch; ` +
      `evaluation per epoch ${epochEvalExamples} examples (timed on ${sampledEvalExamples})`,
  );

  const weights = modelVariables(model);
  const tensors = (): NamedTensor[] => checkpointTensors(weights, optimizer);
  const history: Array<Record<string, number>> = [];
  const selection = new ModelSelection(lifecycle.monitor, lifecycle.earlyStopping?.minDelta ?? 0);
  const shuffle = seededRandom(config.seed);
  const info: RunCheckpointInfo = {
    config: { file: loaded.file, overrides: loaded.overrides, hash: configHash(config) },
    mlflow_run_id: '0123456789abcdef0123456789abcdef',
  };
  /** The state the loop writes after an epoch (a run near its end: every epoch's metrics in it). */
  const trainingState = (epoch: number): TrainingState => ({
    epoch,
    step: epoch * fullSteps,
    random: { shuffle: shuffle.state(), math: mathRandom.state(), data: data.train.randomState?.() },
    optimizer_updates: optimizer.updates,
    scheduler: scheduler.state(),
    selection: selection.state(),
    epochs: Array.from({ length: Math.max(1, config.train.epochs - 1) }, () => history[history.length - 1] ?? {}),
    extra: { ...info },
  });

  /** trainLoop over `steps` steps and the sampled evaluation; seconds per step and per evaluated example. */
  const train = async (steps: number, seed: number): Promise<{ stepS: number; evalPerExampleS: number }> => {
    let epochRecord: Record<string, number> | undefined;
    await trainLoop(
      model,
      optimizer,
      evalData,
      {
        epochs: 1,
        batchSize,
        evalBatchSize,
        shuffle: config.train.shuffle,
        logEverySteps: config.train.log_every_steps,
        maxStepsPerEpoch: steps,
        seed,
        evalTestEveryEpoch: evalTest,
      },
      {
        metrics: (record) => {
          if (record.metrics.epoch_time_s !== undefined) epochRecord = record.metrics;
        },
      },
      { mathRandom },
    );
    history.push(epochRecord!);
    return { stepS: epochRecord!.epoch_time_s! / steps, evalPerExampleS: epochRecord!.eval_time_s! / Math.max(1, sampledEvalExamples) };
  };
  /** save + copy as the loop does after an epoch, then load + assign as a resume does. */
  const checkpoint = async (epoch: number) => {
    const [saveS] = await timed(() => store.save('last', tensors(), trainingState(epoch)));
    const [copyS] = await timed(() => store.copy('last', 'best'));
    const bytes = ['tensors.bin', 'checkpoint.json'].reduce((n, f) => n + statSync(join(store.dir, 'last', f)).size, 0);
    const [loadS, stored] = await timed(() =>
      store.load<TrainingState>('last', (m) => {
        throw new Error(`the checkpoint just written did not read back: ${m}`);
      }),
    );
    const [assignS] = await timed(() => resume(stored));
    const [uploadS] = await timed(firstUse);
    return { saveS, copyS, loadS, assignS, uploadS, bytes, stored };
  };
  /**
   * tfjs-node hands a tensor's values to TensorFlow only when an op first uses it, so assign() alone copies
   * nothing: a sum over every variable, read back, makes the copy happen here rather than in the first step.
   */
  const firstUse = (): void => {
    const sums = tf.tidy(() => tf.stack(tensors().map(({ tensor }) => tf.sum(tf.cast(tensor, 'float32')))));
    sums.dataSync();
    sums.dispose();
  };
  /** What trainLoop does with parts.resume before its first step (weights, slots, counters). */
  const resume = (stored: LoadedCheckpoint<TrainingState>): void => {
    restoreCheckpointTensors(stored, weights, optimizer);
    optimizer.updates = stored.state.optimizer_updates;
    if (stored.state.scheduler !== undefined) scheduler.restore(stored.state.scheduler as never);
  };

  // Warm-up: first steps, first evaluation, first checkpoint (no previous one to replace); also checks the read-back.
  const warm = await train(2, config.seed);
  const first = await checkpoint(0);
  const saved = tensors();
  const readBack = first.stored.tensors;
  if (readBack.length !== saved.length) throw new Error(`checkpoint holds ${readBack.length} tensors, expected ${saved.length}`);
  saved.forEach(({ tensor }, i) => {
    const d = tensor.dataSync() as Float32Array | Int32Array;
    const a = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
    const v = readBack[i]!.values;
    if (!a.equals(Buffer.from(v.buffer, v.byteOffset, v.byteLength)))
      throw new Error(`tensor ${i} (${readBack[i]!.name}) read back different`);
  });
  console.log(
    `warm-up: ${(warm.stepS * 1000).toFixed(0)} ms/step over 2 steps; first checkpoint ${mb(first.bytes)} in ${saved.length} tensors ` +
      `(${weights.length} weights, ${saved.length - weights.length} optimizer slots): save ${secs(first.saveS)} s, ` +
      `copy ${(first.copyS * 1000).toFixed(1)} ms, load ${secs(first.loadS)} s, assign ${secs(first.assignS)} s + first use ${secs(first.uploadS)} s; read back identical`,
  );

  const rounds: Round[] = [];
  const steady = tf.memory().numTensors;
  for (let r = 1; r <= ROUNDS; r++) {
    const trained = await train(STEPS, config.seed + r);
    const c = await checkpoint(r);
    const round: Round = {
      ...trained,
      saveS: c.saveS,
      copyS: c.copyS,
      loadS: c.loadS,
      assignS: c.assignS,
      uploadS: c.uploadS,
      bytes: c.bytes,
      load: load(),
    };
    rounds.push(round);
    const epochS = round.stepS * fullSteps;
    console.log(
      `round ${r}: ${(round.stepS * 1000).toFixed(0)} ms/step (epoch ≈ ${secs(epochS)} s), ` +
        `save ${secs(round.saveS)} s + copy ${(round.copyS * 1000).toFixed(1)} ms = ${(((round.saveS + round.copyS) / epochS) * 100).toFixed(2)} % of the epoch; ` +
        `load ${secs(round.loadS)} s, assign ${secs(round.assignS)} s + first use ${secs(round.uploadS)} s (load average ${round.load})`,
    );
    if (tf.memory().numTensors !== steady) throw new Error(`round ${r} left ${tf.memory().numTensors - steady} tensors behind`);
  }
  return { rounds, fullSteps, batchSize, epochEvalExamples, modelBuildS, data, evalTest };
}

function report(): void {
  const { rounds, fullSteps, batchSize, epochEvalExamples, modelBuildS, data } = result;
  const stepS = median(rounds.map((r) => r.stepS));
  const epochS = stepS * fullSteps;
  const evalS = median(rounds.map((r) => r.evalPerExampleS)) * epochEvalExamples;
  const checkpointS = median(rounds.map((r) => r.saveS + r.copyS));
  const percents = rounds.map((r) => ((r.saveS + r.copyS) / (r.stepS * fullSteps)) * 100);
  const percent = median(percents);
  const percentWithEval = (checkpointS / (epochS + evalS)) * 100;
  const loadS = median(rounds.map((r) => r.loadS));
  const assignS = median(rounds.map((r) => r.assignS + r.uploadS));
  const resumeS = modelBuildS + loadS + assignS;
  const bytes = rounds[rounds.length - 1]!.bytes;
  const quiet = loadAtStart < QUIET_LOAD;
  const verdict = (met: boolean) => (met ? 'met' : quiet ? 'not met' : 'not met under this load');
  console.log(`\nmedians of ${ROUNDS} rounds (${STEPS} steps each); ratios: median of the rounds' (range)\n`);
  console.log(`| ${config.name}: ${data.train.count} train, batch ${batchSize} | seconds | goal |`);
  console.log('| --- | ---: | --- |');
  console.log(`| training step (forward, backward, Adam) | ${secs(stepS)} | |`);
  console.log(`| training epoch, extrapolated (${fullSteps} steps) | ${secs(epochS)} | |`);
  console.log(`| evaluation per epoch, extrapolated (${epochEvalExamples} examples) | ${secs(evalS)} | |`);
  console.log(`| checkpoint: save 'last' (${mb(bytes)}, fsynced) + copy to 'best' | ${secs(checkpointS)} | |`);
  console.log(
    `| checkpoint / training epoch | ${percent.toFixed(2)} % (${range(percents, 2)}) | ≤ ${GOAL_PERCENT} %: ${verdict(percent <= GOAL_PERCENT)} |`,
  );
  console.log(`| checkpoint / (training + evaluation) | ${percentWithEval.toFixed(2)} % | |`);
  console.log(`| data load and preparation (not counted) | ${secs(data.dataSeconds)} | |`);
  console.log(`| model + optimizer build (buildExperiment − data) | ${secs(modelBuildS)} | |`);
  console.log(`| checkpoint load (read, SHA-256 check) | ${secs(loadS)} | |`);
  console.log(`| assign weights + optimizer slots (and their first use: the copy into TensorFlow) | ${secs(assignS)} | |`);
  console.log(`| resume overhead besides the data load | ${secs(resumeS)} | ≤ ${GOAL_RESUME_S} s: ${verdict(resumeS <= GOAL_RESUME_S)} |`);
  console.log(`\nload average at the end: ${load()}; tensors ${tensorsAtStart} before, ${tensorsAtEnd} after`);
  if (tensorsAtEnd !== tensorsAtStart) console.log(`WARNING: ${tensorsAtEnd - tensorsAtStart} tensors were not disposed`);
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  console.log(
    JSON.stringify({
      bench: 'checkpoint',
      date: new Date().toISOString(),
      config: loaded.file,
      backend: describeBackend(backend),
      cores: availableParallelism(),
      load_start: loadAtStart,
      load_end: loadAtEnd,
      quiet,
      steps: STEPS,
      rounds: ROUNDS,
      train_examples: data.train.count,
      vocabulary: data.vocab?.size,
      batch_size: batchSize,
      steps_per_epoch: fullSteps,
      step_s: r3(stepS),
      epoch_train_s: r3(epochS),
      epoch_eval_s: r3(evalS),
      checkpoint_bytes: bytes,
      save_s: r3(median(rounds.map((r) => r.saveS))),
      copy_s: r3(median(rounds.map((r) => r.copyS))),
      checkpoint_s: r3(checkpointS),
      checkpoint_percent_of_epoch: r3(percent),
      checkpoint_percent_range: [r3(Math.min(...percents)), r3(Math.max(...percents))],
      checkpoint_percent_with_eval: r3(percentWithEval),
      data_s: r3(data.dataSeconds),
      model_build_s: r3(modelBuildS),
      load_s: r3(loadS),
      assign_s: r3(median(rounds.map((r) => r.assignS))),
      first_use_s: r3(median(rounds.map((r) => r.uploadS))),
      resume_overhead_s: r3(resumeS),
      goal_checkpoint_met: percent <= GOAL_PERCENT,
      goal_resume_met: resumeS <= GOAL_RESUME_S,
      tensors_leaked: tensorsAtEnd - tensorsAtStart,
    }),
  );
}

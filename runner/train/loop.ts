import * as tf from '@tensorflow/tfjs';
import { RunFailedError } from '../errors.ts';
import { indexRange, type BatchSource } from '../data/batches.ts';
import type { PreparedData } from '../data/types.ts';
import { assignStored, tensorsOf, type CheckpointStore, type LoadedCheckpoint, type NamedTensor } from './checkpoint.ts';
import type { MetricRecord } from './metrics.ts';
import { classificationReport, reportMetrics, type ClassificationReport } from './report.ts';
import { variableOf, type GroupedOptimizer } from './optimizer.ts';
import { seededRandom, shuffledIndices, type RandomStream } from './random.ts';
import { ModelSelection, type Monitor, type SelectionState } from './selection.ts';

/** Settings of the training loop (from the config's `train` and `data`). */
export interface LoopOptions {
  epochs: number;
  batchSize: number;
  evalBatchSize: number;
  shuffle: boolean;
  logEverySteps: number;
  maxStepsPerEpoch?: number;
  seed: number;
  /** Evaluate the test split after every epoch too (the d2l lessons do), not only once at the end. */
  evalTestEveryEpoch?: boolean;
  /** The metric that picks the best epoch (and drives early stopping and plateau schedules). */
  monitor?: Monitor;
  /** Put the best epoch's weights back at the end (needs a monitor). */
  restoreBest?: boolean;
  /** Stop when the monitored metric has not improved by more than `minDelta` for `patience` epochs. */
  earlyStopping?: { patience: number; minDelta: number };
}

/** What the loop drives besides the model and optimizer, each saved in checkpoints. */
export interface LoopParts {
  /** The learning-rate schedule (stepped after each step and each epoch). */
  scheduler?: SchedulerHooks;
  /** The stream Math.random draws from (dropout), so a resumed run draws the same masks. */
  mathRandom?: RandomStream;
  /** Where checkpoints go (`last` after every epoch, `best` when the monitor improves); none: best weights kept in memory. */
  checkpoints?: CheckpointStore;
  /** More JSON kept in every checkpoint (the run's MLflow ids, config hash). */
  checkpointExtra?(): unknown;
  /** A checkpoint to continue from (exact resume). */
  resume?: LoadedCheckpoint<TrainingState>;
}

/** The part of a learning-rate scheduler the loop uses. */
export interface SchedulerHooks {
  afterStep(): void;
  afterEpoch(monitored?: number): void;
  state(): unknown;
  restore(state: never): void;
}

/** Everything besides tensors that a checkpoint holds: where training is and every generator's position. */
export interface TrainingState {
  /** Epochs completed. */
  epoch: number;
  /** Global steps completed. */
  step: number;
  random: { shuffle: number; math?: number; data?: number };
  optimizer_updates: number;
  scheduler?: unknown;
  selection: SelectionState;
  /** Metrics of the completed epochs, for the curves and the summary. */
  epochs: Array<Record<string, number>>;
  extra?: unknown;
}

/** Where the loop is, for progress displays. */
export interface StepProgress {
  epoch: number;
  epochs: number;
  stepInEpoch: number;
  stepsInEpoch: number;
  /** The epoch's mean training loss as of the last read from the device (NaN before the first). */
  loss: number;
  /** The epoch's training accuracy as of the last read from the device (NaN before the first). */
  accuracy: number;
  examplesPerSecond: number;
  /** Seconds until the epoch's last step, from the pace so far. */
  etaSeconds: number;
}

/** Callbacks of the loop; `metrics` records are written to disk before anything else sees them. */
export interface LoopEvents {
  metrics(record: MetricRecord): void;
  progress?(progress: StepProgress): void;
  epochEnd?(record: MetricRecord, info: { numTensors: number; improved: boolean }): void;
  /** A line for people (early stopping, best-epoch restore). */
  message?(line: string): void;
  /** Polled between steps: true stops the run after the current step (Ctrl-C). */
  shouldStop?(): boolean;
}

/** How the loop ended. */
export interface LoopResult {
  status: 'FINISHED' | 'KILLED';
  steps: number;
  epochsCompleted: number;
  /** The last epoch's metrics, then the final test metrics of the selected model (empty if no epoch completed). */
  final: Record<string, number>;
  /** Metrics of the last completed epoch. */
  lastEpoch: Record<string, number>;
  /** Predicted class per test example of the selected model. */
  testPredictions?: Int32Array;
  /** The classification report of those predictions. */
  testReport?: ClassificationReport;
  /** The epoch whose weights the model holds at the end, and the monitored value there (with a monitor). */
  selected?: { epoch: number; value: number; restored: boolean };
  /** Why training ended before `epochs` (early stopping). */
  stoppedEarly?: { epoch: number; reason: string };
}

/** The evaluation of one split. */
export interface Evaluation {
  loss: number;
  accuracy: number;
  predictions: Int32Array;
}

const MODEL = 'model';
const SLOTS = 'optimizer';

/**
 * Trains `model` with `optimizer` on prepared data: per epoch the training metrics, the validation split's
 * (when there is one) and, with `evalTestEveryEpoch`, the test split's; a checkpoint after every epoch; the
 * best epoch by the monitor restored at the end; the test split evaluated on the model that is kept.
 */
export async function trainLoop(
  model: tf.LayersModel,
  optimizer: GroupedOptimizer,
  data: PreparedData,
  options: LoopOptions,
  events: LoopEvents,
  parts: LoopParts = {},
): Promise<LoopResult> {
  const numClasses = data.classes.length;
  const variables = optimizer.trainableVariables();
  const shuffleRandom = seededRandom(options.seed);
  const stepsInEpoch = stepsPerEpoch(data.train.count, options);
  const selection = new ModelSelection(options.monitor, options.earlyStopping?.minDelta ?? 0);
  const weights = modelVariables(model);
  const history: Array<Record<string, number>> = [];
  const bestInMemory: { tensors?: tf.Tensor[] } = {};
  let step = 0;
  let epochsCompleted = 0;
  if (parts.resume) {
    const { state } = parts.resume;
    restoreCheckpointTensors(parts.resume, weights, optimizer);
    optimizer.updates = state.optimizer_updates;
    if (state.scheduler !== undefined) parts.scheduler?.restore(state.scheduler as never);
    shuffleRandom.restore(state.random.shuffle);
    if (state.random.math !== undefined) parts.mathRandom?.restore(state.random.math);
    if (state.random.data !== undefined) data.train.restoreRandomState?.(state.random.data);
    selection.restore(state.selection);
    history.push(...state.epochs);
    step = state.step;
    epochsCompleted = state.epoch;
  }
  const lastOf = () => history[history.length - 1] ?? {};
  const killed = (): LoopResult => {
    disposeAll(bestInMemory.tensors);
    return { status: 'KILLED', steps: step, epochsCompleted, final: lastOf(), lastEpoch: lastOf() };
  };
  const pending = new PendingSteps();
  let stoppedEarly: LoopResult['stoppedEarly'];
  let lastTest: Evaluation | undefined;
  for (let epoch = epochsCompleted + 1; epoch <= options.epochs && !stoppedEarly; epoch++) {
    const order = options.shuffle
      ? shuffledIndices(data.train.count, shuffleRandom)
      : Int32Array.from({ length: data.train.count }, (_, i) => i);
    const epochStart = performance.now();
    let [epochLoss, epochCorrect, epochExamples] = [0, 0, 0];
    let [windowLoss, windowCorrect, windowExamples] = [0, 0, 0];
    let dispatched = 0;
    // Losses and hits stay on the device until a log record or the epoch's end needs them: no host sync per step.
    const read = (): void => {
      for (const { loss, correct, size, step: at, batchInEpoch } of pending.read()) {
        if (!Number.isFinite(loss)) {
          pending.dispose();
          disposeAll(bestInMemory.tensors);
          throw new RunFailedError(
            `The training loss became ${loss} at step ${at} (epoch ${epoch}, batch ${batchInEpoch}); stopping. Try a lower learning rate.`,
          );
        }
        epochLoss += loss * size;
        epochCorrect += correct;
        epochExamples += size;
        windowLoss += loss * size;
        windowCorrect += correct;
        windowExamples += size;
      }
    };
    for (let s = 0; s < stepsInEpoch; s++) {
      if (events.shouldStop?.()) {
        pending.dispose();
        return killed();
      }
      const batch = order.subarray(s * options.batchSize, Math.min((s + 1) * options.batchSize, data.train.count));
      step++;
      dispatched += batch.length;
      pending.push(trainStep(model, optimizer, variables, data.train, batch, numClasses), {
        size: batch.length,
        step,
        batchInEpoch: s + 1,
      });
      const logNow = step % options.logEverySteps === 0;
      if (logNow || s === stepsInEpoch - 1) read();
      const seconds = (performance.now() - epochStart) / 1000;
      const stepsDone = s + 1;
      events.progress?.({
        epoch,
        epochs: options.epochs,
        stepInEpoch: stepsDone,
        stepsInEpoch,
        loss: epochLoss / epochExamples,
        accuracy: epochCorrect / epochExamples,
        examplesPerSecond: dispatched / seconds,
        etaSeconds: (seconds / stepsDone) * (stepsInEpoch - stepsDone),
      });
      if (logNow) {
        events.metrics({
          step,
          epoch,
          timestamp: Date.now(),
          metrics: {
            batch_loss: windowLoss / windowExamples,
            batch_accuracy: windowCorrect / windowExamples,
            ...prefixed('lr/', optimizer.learningRates()),
          },
        });
        [windowLoss, windowCorrect, windowExamples] = [0, 0, 0];
      }
      parts.scheduler?.afterStep();
      await new Promise<void>((resolve) => setImmediate(resolve)); // let signals and I/O in
    }
    const trainSeconds = (performance.now() - epochStart) / 1000;
    const evalStart = performance.now();
    const metrics: Record<string, number> = {
      train_loss: epochLoss / epochExamples,
      train_accuracy: epochCorrect / epochExamples,
    };
    if (data.validation) {
      const val = evaluate(model, data.validation, numClasses, options.evalBatchSize);
      Object.assign(metrics, { val_loss: val.loss, val_accuracy: val.accuracy, val_macro_f1: macroF1(data.validation, val, data.classes) });
    }
    lastTest = undefined;
    if (options.evalTestEveryEpoch) {
      lastTest = evaluate(model, data.test, numClasses, options.evalBatchSize);
      Object.assign(metrics, {
        test_loss: lastTest.loss,
        test_accuracy: lastTest.accuracy,
        test_macro_f1: macroF1(data.test, lastTest, data.classes),
      });
    }
    Object.assign(metrics, {
      epoch,
      examples_per_sec: epochExamples / trainSeconds,
      epoch_time_s: trainSeconds,
      eval_time_s: (performance.now() - evalStart) / 1000,
    });
    const monitored = options.monitor ? metrics[options.monitor.metric] : undefined;
    const improved = selection.observe(epoch, monitored);
    parts.scheduler?.afterEpoch(monitored);
    const record: MetricRecord = { step, epoch, timestamp: Date.now(), metrics };
    events.metrics(record);
    history.push(metrics);
    epochsCompleted = epoch;
    if (options.earlyStopping && selection.wait >= options.earlyStopping.patience && epoch < options.epochs) {
      const { metric } = options.monitor!;
      stoppedEarly = {
        epoch,
        reason:
          `${metric} did not improve by more than ${options.earlyStopping.minDelta} for ${selection.wait} epoch${selection.wait === 1 ? '' : 's'} ` +
          `(patience ${options.earlyStopping.patience}; best ${formatValue(selection.best)} at epoch ${selection.bestEpoch})`,
      };
    }
    if (parts.checkpoints) {
      await parts.checkpoints.save('last', checkpointTensors(weights, optimizer), {
        epoch,
        step,
        random: { shuffle: shuffleRandom.state(), math: parts.mathRandom?.state(), data: data.train.randomState?.() },
        optimizer_updates: optimizer.updates,
        scheduler: parts.scheduler?.state(),
        selection: selection.state(),
        epochs: history,
        extra: parts.checkpointExtra?.(),
      } satisfies TrainingState);
      if (improved) parts.checkpoints.copy('last', 'best');
    } else if (improved && options.restoreBest) {
      disposeAll(bestInMemory.tensors);
      bestInMemory.tensors = weights.map((w) => tf.clone(w));
    }
    events.epochEnd?.(record, { numTensors: tf.memory().numTensors, improved });
  }
  if (stoppedEarly) events.message?.(`early stopping after epoch ${stoppedEarly.epoch}: ${stoppedEarly.reason}`);

  // Model selection: the best epoch's weights, unless the last epoch is the best.
  let selected: LoopResult['selected'];
  if (options.monitor && selection.bestEpoch !== undefined) {
    const restore = options.restoreBest === true && selection.bestEpoch !== epochsCompleted;
    if (restore) {
      if (parts.checkpoints) {
        const best = parts.checkpoints.load<TrainingState>('best', (m) => events.message?.(m));
        assignStored(weights, tensorsOf(best, MODEL), 'weight', best.dir);
      } else {
        weights.forEach((w, i) => w.assign(bestInMemory.tensors![i]!));
      }
      events.message?.(
        `restored the weights of epoch ${selection.bestEpoch} (best ${options.monitor.metric} ${formatValue(selection.best)}; last epoch ${epochsCompleted})`,
      );
    }
    selected = { epoch: restore ? selection.bestEpoch : epochsCompleted, value: selection.best!, restored: restore };
  }
  disposeAll(bestInMemory.tensors);

  // The test split, once, on the model that is kept (reused when that is the last epoch's, already evaluated).
  const finalStart = performance.now();
  const test = lastTest && !selected?.restored ? lastTest : evaluate(model, data.test, numClasses, options.evalBatchSize);
  const testReport = classificationReport(data.test.labels, test.predictions, data.classes);
  const final: Record<string, number> = { test_loss: test.loss, test_accuracy: test.accuracy, ...reportMetrics(testReport, 'test_') };
  if (selected && options.monitor) {
    // The kept epoch's training and validation metrics as best_<name> (best_val_loss, best_val_accuracy, ...).
    const kept = history[selected.epoch - 1] ?? {};
    for (const [key, value] of Object.entries(kept)) if (/^(train|val)_/.test(key)) final[`best_${key}`] = value;
    Object.assign(final, { best_epoch: selected.epoch, [`best_${options.monitor.metric}`]: selected.value });
  }
  if (test !== lastTest) final.test_eval_time_s = (performance.now() - finalStart) / 1000;
  events.metrics({ step, epoch: epochsCompleted, timestamp: Date.now(), metrics: final });
  return {
    status: 'FINISHED',
    steps: step,
    epochsCompleted,
    final: { ...lastOf(), ...final },
    lastEpoch: lastOf(),
    testPredictions: test.predictions,
    testReport,
    selected,
    stoppedEarly,
  };
}

/** Optimizer steps in one epoch: batches of the training split, at most `maxStepsPerEpoch`. */
export function stepsPerEpoch(trainCount: number, options: Pick<LoopOptions, 'batchSize' | 'maxStepsPerEpoch'>): number {
  const full = Math.ceil(trainCount / options.batchSize);
  return Math.min(full, options.maxStepsPerEpoch ?? full);
}

/** The model's variables in a fixed order (trainable and not: batch-norm statistics too). */
export function modelVariables(model: tf.LayersModel): tf.Variable[] {
  return model.weights.map((w) => variableOf(w));
}

/** What a checkpoint holds of tensors: the model's variables, then every optimizer slot. */
export function checkpointTensors(weights: tf.Variable[], optimizer: GroupedOptimizer): NamedTensor[] {
  return [
    ...weights.map((tensor) => ({ group: MODEL, name: tensor.name, tensor })),
    ...optimizer.slotVariables().map(({ name, variable }) => ({ group: SLOTS, name, tensor: variable })),
  ];
}

/** Puts a checkpoint's tensors back into the model's variables and the optimizer's slots (shapes checked). */
export function restoreCheckpointTensors(checkpoint: LoadedCheckpoint<unknown>, weights: tf.Variable[], optimizer: GroupedOptimizer): void {
  assignStored(weights, tensorsOf(checkpoint, MODEL), 'weight', checkpoint.dir);
  assignStored(
    optimizer.slotVariables().map((s) => s.variable),
    tensorsOf(checkpoint, SLOTS),
    'optimizer slot',
    checkpoint.dir,
  );
}

/** One optimisation step on the rows `batch` of the training tensors; returns its mean loss and hits, still on the device. */
function trainStep(
  model: tf.LayersModel,
  optimizer: GroupedOptimizer,
  variables: tf.Variable[],
  source: BatchSource,
  batch: Int32Array,
  numClasses: number,
): StepTensors {
  let correct: tf.Scalar | undefined;
  const loss = tf.tidy(() => {
    const { x, y } = source.batch(batch, true);
    const { value, grads } = tf.variableGrads(() => {
      const logits = model.apply(x, { training: true }) as tf.Tensor2D;
      correct = tf.keep(countCorrect(logits, y));
      return tf.losses.softmaxCrossEntropy(tf.oneHot(y, numClasses), logits);
    }, variables);
    optimizer.apply(grads);
    return value;
  });
  return { loss, correct: correct! };
}

/** A step's mean loss and number of correct predictions, as device scalars. */
interface StepTensors {
  loss: tf.Scalar;
  correct: tf.Scalar;
}

/** Where a pending step sits in training, for messages. */
interface StepPlace {
  size: number;
  step: number;
  batchInEpoch: number;
}

/** Steps whose loss and hits are still on the device; `read` fetches them all in one transfer. */
class PendingSteps {
  #steps: Array<StepTensors & StepPlace> = [];

  /** Takes ownership of a step's tensors. */
  push(tensors: StepTensors, place: StepPlace): void {
    this.#steps.push({ ...tensors, ...place });
  }

  /** The pending steps' values in step order (one read from the device), releasing their tensors. */
  read(): Array<StepPlace & { loss: number; correct: number }> {
    if (this.#steps.length === 0) return [];
    const steps = this.#steps;
    const values = tf.tidy(() => tf.stack(steps.flatMap((s) => [s.loss, s.correct])).dataSync());
    this.dispose();
    return steps.map(({ size, step, batchInEpoch }, i) => ({
      size,
      step,
      batchInEpoch,
      loss: values[2 * i]!,
      correct: values[2 * i + 1]!,
    }));
  }

  /** Releases the pending tensors unread. */
  dispose(): void {
    for (const s of this.#steps) tf.dispose([s.loss, s.correct]);
    this.#steps = [];
  }
}

function countCorrect(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32'));
}

/** Mean loss, accuracy and predictions of `model` on a split, in batches, without training behaviour (two reads from the device). */
export function evaluate(model: tf.LayersModel, split: BatchSource, numClasses: number, batchSize: number): Evaluation {
  const sums: tf.Tensor[] = []; // per batch: [summed loss, correct predictions]
  const predicted: tf.Tensor[] = [];
  try {
    for (let start = 0; start < split.count; start += batchSize) {
      const end = Math.min(start + batchSize, split.count);
      const [batchSums, classes] = tf.tidy(() => {
        const { x, y } = split.batch(indexRange(start, end), false);
        const logits = model.apply(x, { training: false }) as tf.Tensor2D;
        const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(y, numClasses), logits, undefined, undefined, tf.Reduction.SUM);
        const classes = tf.argMax(logits, 1);
        return [tf.stack([loss, tf.sum(tf.cast(tf.equal(classes, y), 'float32'))]), classes];
      });
      sums.push(batchSums);
      predicted.push(classes);
    }
    if (predicted.length === 0) return { loss: NaN, accuracy: NaN, predictions: new Int32Array(0) };
    const [batchSums, predictions] = tf.tidy(() => [tf.stack(sums).dataSync(), tf.concat(predicted).dataSync() as Int32Array]);
    let [lossSum, correct] = [0, 0];
    for (let i = 0; i < batchSums.length; i += 2) [lossSum, correct] = [lossSum + batchSums[i]!, correct + batchSums[i + 1]!];
    return { loss: lossSum / split.count, accuracy: correct / split.count, predictions };
  } finally {
    tf.dispose([...sums, ...predicted]);
  }
}

/** Macro-F1 of an evaluation of `split`. */
function macroF1(split: BatchSource, evaluation: Evaluation, classes: string[]): number {
  return classificationReport(split.labels, evaluation.predictions, classes).macro_f1;
}

function prefixed(prefix: string, values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [prefix + k, v]));
}

function disposeAll(tensors: tf.Tensor[] | undefined): void {
  tensors?.forEach((t) => t.dispose());
}

function formatValue(value: number | undefined): string {
  return value === undefined ? '?' : Number.isInteger(value) ? String(value) : value.toFixed(4);
}

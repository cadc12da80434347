import * as tf from '@tensorflow/tfjs';
import { RunFailedError } from '../errors.ts';
import { indexRange, type BatchSource } from '../data/batches.ts';
import type { PreparedData } from '../data/types.ts';
import type { MetricRecord } from './metrics.ts';
import type { GroupedOptimizer } from './optimizer.ts';
import { seededRandom, shuffledIndices } from './random.ts';

/** Settings of the training loop (from the config's `train` and `data`). */
export interface LoopOptions {
  epochs: number;
  batchSize: number;
  evalBatchSize: number;
  shuffle: boolean;
  logEverySteps: number;
  maxStepsPerEpoch?: number;
  seed: number;
}

/** Where the loop is, for progress displays. */
export interface StepProgress {
  epoch: number;
  epochs: number;
  stepInEpoch: number;
  stepsInEpoch: number;
  loss: number;
  accuracy: number;
  examplesPerSecond: number;
  /** Seconds until the epoch's last step, from the pace so far. */
  etaSeconds: number;
}

/** Callbacks of the loop; `metrics` records are written to disk before anything else sees them. */
export interface LoopEvents {
  metrics(record: MetricRecord): void;
  progress?(progress: StepProgress): void;
  epochEnd?(record: MetricRecord, info: { numTensors: number }): void;
  /** Polled between steps: true stops the run after the current step (Ctrl-C). */
  shouldStop?(): boolean;
}

/** How the loop ended. */
export interface LoopResult {
  status: 'FINISHED' | 'KILLED';
  steps: number;
  epochsCompleted: number;
  /** The last epoch's metrics (empty if no epoch completed). */
  final: Record<string, number>;
  /** Predicted class per test example at the last evaluation. */
  testPredictions?: Int32Array;
}

/** The evaluation of one split. */
export interface Evaluation {
  loss: number;
  accuracy: number;
  predictions: Int32Array;
}

/** Trains `model` with `optimizer` on prepared data, evaluating on the test split every epoch. */
export async function trainLoop(
  model: tf.LayersModel,
  optimizer: GroupedOptimizer,
  data: PreparedData,
  options: LoopOptions,
  events: LoopEvents,
): Promise<LoopResult> {
  const numClasses = data.classes.length;
  const variables = optimizer.trainableVariables();
  const random = seededRandom(options.seed);
  const fullSteps = Math.ceil(data.train.count / options.batchSize);
  const stepsInEpoch = Math.min(fullSteps, options.maxStepsPerEpoch ?? fullSteps);
  let step = 0;
  let final: Record<string, number> = {};
  let testPredictions: Int32Array | undefined;
  let epochsCompleted = 0;
  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    const order = options.shuffle ? shuffledIndices(data.train.count, random) : Int32Array.from({ length: data.train.count }, (_, i) => i);
    const epochStart = performance.now();
    let [epochLoss, epochCorrect, epochExamples] = [0, 0, 0];
    let [windowLoss, windowCorrect, windowExamples] = [0, 0, 0];
    for (let s = 0; s < stepsInEpoch; s++) {
      if (events.shouldStop?.()) return { status: 'KILLED', steps: step, epochsCompleted, final, testPredictions };
      const batch = order.subarray(s * options.batchSize, Math.min((s + 1) * options.batchSize, data.train.count));
      const { loss, correct } = trainStep(model, optimizer, variables, data.train, batch, numClasses);
      step++;
      if (!Number.isFinite(loss)) {
        throw new RunFailedError(
          `The training loss became ${loss} at step ${step} (epoch ${epoch}, batch ${s + 1}); stopping. Try a lower learning rate.`,
        );
      }
      epochLoss += loss * batch.length;
      epochCorrect += correct;
      epochExamples += batch.length;
      windowLoss += loss * batch.length;
      windowCorrect += correct;
      windowExamples += batch.length;
      const seconds = (performance.now() - epochStart) / 1000;
      events.progress?.({
        epoch,
        epochs: options.epochs,
        stepInEpoch: s + 1,
        stepsInEpoch,
        loss: epochLoss / epochExamples,
        accuracy: epochCorrect / epochExamples,
        examplesPerSecond: epochExamples / seconds,
        etaSeconds: (seconds / (s + 1)) * (stepsInEpoch - s - 1),
      });
      if (step % options.logEverySteps === 0) {
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
      await new Promise<void>((resolve) => setImmediate(resolve)); // let signals and I/O in
    }
    const trainSeconds = (performance.now() - epochStart) / 1000;
    const evalStart = performance.now();
    const test = evaluate(model, data.test, numClasses, options.evalBatchSize);
    testPredictions = test.predictions;
    final = {
      train_loss: epochLoss / epochExamples,
      train_accuracy: epochCorrect / epochExamples,
      test_loss: test.loss,
      test_accuracy: test.accuracy,
      examples_per_sec: epochExamples / trainSeconds,
      epoch_time_s: trainSeconds,
      eval_time_s: (performance.now() - evalStart) / 1000,
    };
    const record: MetricRecord = { step, epoch, timestamp: Date.now(), metrics: final };
    events.metrics(record);
    epochsCompleted = epoch;
    events.epochEnd?.(record, { numTensors: tf.memory().numTensors });
  }
  return { status: 'FINISHED', steps: step, epochsCompleted, final, testPredictions };
}

/** One optimisation step on the rows `batch` of the training tensors; returns its mean loss and hits. */
function trainStep(
  model: tf.LayersModel,
  optimizer: GroupedOptimizer,
  variables: tf.Variable[],
  source: BatchSource,
  batch: Int32Array,
  numClasses: number,
): { loss: number; correct: number } {
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
  try {
    return { loss: loss.dataSync()[0]!, correct: correct!.dataSync()[0]! };
  } finally {
    loss.dispose();
    correct?.dispose();
  }
}

function countCorrect(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32'));
}

/** Mean loss, accuracy and predictions of `model` on a split, in batches, without training behaviour. */
export function evaluate(model: tf.LayersModel, split: BatchSource, numClasses: number, batchSize: number): Evaluation {
  const predictions = new Int32Array(split.count);
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < split.count; start += batchSize) {
    const end = Math.min(start + batchSize, split.count);
    const [batchLoss, batchCorrect, batchPredictions] = tf.tidy(() => {
      const { x, y } = split.batch(indexRange(start, end), false);
      const logits = model.apply(x, { training: false }) as tf.Tensor2D;
      const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(y, numClasses), logits, undefined, undefined, tf.Reduction.SUM);
      const predicted = tf.argMax(logits, 1);
      const hits = tf.sum(tf.cast(tf.equal(predicted, y), 'int32'));
      return [loss.dataSync()[0]!, hits.dataSync()[0]!, predicted.dataSync() as Int32Array] as const;
    });
    lossSum += batchLoss;
    correct += batchCorrect;
    predictions.set(batchPredictions, start);
  }
  return { loss: lossSum / split.count, accuracy: correct / split.count, predictions };
}

function prefixed(prefix: string, values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [prefix + k, v]));
}

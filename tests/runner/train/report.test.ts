import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { classificationReport, reportMetrics } from '../../../runner/train/report.ts';

const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} ≠ ${expected}`);

// Worked by hand: rows are true classes, columns predicted.
//        a  b  c
//   a [  2  1  0 ]   a: P 2/2, R 2/3, F1 0.8
//   b [  0  1  1 ]   b: P 1/2, R 1/2, F1 0.5
//   c [  0  0  1 ]   c: P 1/2, R 1/1, F1 2/3
const labels = Int32Array.from([0, 0, 0, 1, 1, 2]);
const predictions = Int32Array.from([0, 0, 1, 1, 2, 2]);

test('confusion matrix, per-class scores and macro-F1 match the hand-computed values', () => {
  const before = tf.memory().numTensors;
  const report = classificationReport(labels, predictions, ['a', 'b', 'c']);
  assert.is(tf.memory().numTensors, before, 'no tensor left behind');
  assert.equal(report.confusion, [
    [2, 1, 0],
    [0, 1, 1],
    [0, 0, 1],
  ]);
  close(report.accuracy, 4 / 6, 'accuracy');
  close(report.per_class.a!.f1, 0.8, 'F1 a');
  close(report.per_class.b!.precision, 0.5, 'P b');
  close(report.per_class.c!.recall, 1, 'R c');
  close(report.per_class.c!.f1, 2 / 3, 'F1 c');
  close(report.macro_f1, (0.8 + 0.5 + 2 / 3) / 3, 'macro-F1');
  assert.is(report.per_class.a!.support, 3);
});

test('a class neither present nor predicted scores 0 and lowers the macro-F1', () => {
  const report = classificationReport(labels, predictions, ['a', 'b', 'c', 'd']);
  close(report.macro_f1, (0.8 + 0.5 + 2 / 3) / 4, 'macro-F1 over four classes');
  assert.equal(report.per_class.d, { precision: 0, recall: 0, f1: 0, support: 0 });
});

test('reportMetrics: flat MLflow-safe keys per class', () => {
  const metrics = reportMetrics(classificationReport(labels, predictions, ['a', 'b/x', 'c ü']), 'test_');
  close(metrics.test_macro_f1!, (0.8 + 0.5 + 2 / 3) / 3, 'macro');
  close(metrics['test_f1/a']!, 0.8, 'f1/a');
  close(metrics['test_precision/b_x']!, 0.5, 'precision/b_x');
  assert.ok('test_recall/c _' in metrics, Object.keys(metrics).join(', '));
});

test.run();

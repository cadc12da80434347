import * as tf from '@tensorflow/tfjs';

/** Per-class precision, recall and F1 with support. */
export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** A classification report: confusion matrix (rows = true class, columns = predicted), per-class scores, accuracy, macro F1. */
export interface ClassificationReport {
  classes: string[];
  confusion: number[][];
  per_class: Record<string, ClassScores>;
  accuracy: number;
  /** The unweighted mean of the per-class F1 scores (a class never seen nor predicted scores 0). */
  macro_f1: number;
}

/** Computes the classification report of predictions against labels (the confusion matrix counted on the backend). */
export function classificationReport(labels: Int32Array, predictions: Int32Array, classes: string[]): ClassificationReport {
  const k = classes.length;
  const counts = tf.tidy(() =>
    labels.length === 0
      ? tf.zeros([k, k], 'int32')
      : tf.math.confusionMatrix(tf.tensor1d(labels, 'int32'), tf.tensor1d(predictions, 'int32'), k),
  );
  const flat = counts.dataSync();
  counts.dispose();
  const confusion = Array.from({ length: k }, (_, row) => Array.from(flat.subarray(row * k, (row + 1) * k)));
  const perClass: Record<string, ClassScores> = {};
  let correct = 0;
  let f1Sum = 0;
  classes.forEach((name, c) => {
    const truePositives = confusion[c]![c]!;
    correct += truePositives;
    const predicted = confusion.reduce((sum, row) => sum + row[c]!, 0);
    const support = confusion[c]!.reduce((sum, n) => sum + n, 0);
    const precision = predicted === 0 ? 0 : truePositives / predicted;
    const recall = support === 0 ? 0 : truePositives / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    f1Sum += f1;
    perClass[name] = { precision, recall, f1, support };
  });
  return { classes, confusion, per_class: perClass, accuracy: labels.length === 0 ? 0 : correct / labels.length, macro_f1: f1Sum / k };
}

/** A class name as part of an MLflow metric key (letters, digits, `_ - . : /` and spaces are kept; anything else becomes `_`). */
export function metricKeyPart(name: string): string {
  return name.replace(/[^\w.\- :]/g, '_') || '_';
}

/**
 * A report as flat metrics under `prefix`: `<prefix>macro_f1` and per class `<prefix>precision/<class>`,
 * `<prefix>recall/<class>`, `<prefix>f1/<class>` (sortable in MLflow and usable as sweep.metric).
 */
export function reportMetrics(report: ClassificationReport, prefix: string): Record<string, number> {
  const metrics: Record<string, number> = { [`${prefix}macro_f1`]: report.macro_f1 };
  for (const [name, scores] of Object.entries(report.per_class)) {
    const key = metricKeyPart(name);
    metrics[`${prefix}precision/${key}`] = scores.precision;
    metrics[`${prefix}recall/${key}`] = scores.recall;
    metrics[`${prefix}f1/${key}`] = scores.f1;
  }
  return metrics;
}

/** Per-class precision, recall and F1 with support. */
export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** A classification report: confusion matrix (rows = true class), per-class scores, accuracy, macro F1. */
export interface ClassificationReport {
  classes: string[];
  confusion: number[][];
  per_class: Record<string, ClassScores>;
  accuracy: number;
  macro_f1: number;
}

/** Computes the classification report of predictions against labels. */
export function classificationReport(labels: Int32Array, predictions: Int32Array, classes: string[]): ClassificationReport {
  const k = classes.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < labels.length; i++) confusion[labels[i]!]![predictions[i]!]!++;
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

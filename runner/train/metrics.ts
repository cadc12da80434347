/** One line of `metrics.jsonl`: metrics logged at a global step (and epoch). */
export interface MetricRecord {
  /** Global training step (batches seen so far). */
  step: number;
  /** 1-based epoch the record belongs to. */
  epoch: number;
  /** Milliseconds since the epoch when the record was made (never re-taken on retries). */
  timestamp: number;
  /** Metric name → value (`train_loss`, `test_accuracy`, `lr/head`, ...). */
  metrics: Record<string, number>;
}

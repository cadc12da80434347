import { readFileSync } from 'node:fs';
import type { MetricRecord } from '../train/metrics.ts';
import { type Metric, safeKey, toJson } from './limits.ts';

/** One line of metrics.jsonl (the training loop's record; `epoch` may be missing in files written by hand). */
export type MetricsRecord = Omit<MetricRecord, 'epoch'> & { epoch?: number };

/** The metrics.jsonl line for a record (NaN/±Infinity written as "NaN"/"Infinity"/"-Infinity", so they survive the file). */
export function formatMetricsLine(record: MetricsRecord): string {
  return `${toJson(record)}\n`;
}

/** A metric value read from the file or passed in: numbers as they are; "NaN"/"Infinity"/"-Infinity" strings and null (JSON.stringify's NaN) decoded; anything else undefined. */
export function metricValue(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (value === null || value === 'NaN') return NaN;
  if (value === 'Infinity' || value === '+Infinity') return Infinity;
  if (value === '-Infinity') return -Infinity;
  return undefined;
}

/** The MLflow metric points of one record (keys made valid; values that are not numbers skipped). */
export function recordToMetrics(record: MetricsRecord): Metric[] {
  const out: Metric[] = [];
  const step = Math.trunc(Number(record.step) || 0);
  const timestamp = Math.trunc(Number(record.timestamp));
  for (const [key, raw] of Object.entries(record.metrics ?? {})) {
    const value = metricValue(raw);
    if (value === undefined) continue;
    out.push({ key: safeKey(key), value, timestamp, step });
  }
  return out;
}

/** The records of a metrics.jsonl file, in order; unreadable lines (e.g. a torn last line) are counted, not thrown. */
export function readMetricsFile(path: string): { records: MetricsRecord[]; badLines: number } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], badLines: 0 };
    throw error;
  }
  const records: MetricsRecord[] = [];
  let badLines = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const parsed = JSON.parse(line) as MetricsRecord;
      if (
        typeof parsed !== 'object' ||
        parsed === null ||
        typeof parsed.metrics !== 'object' ||
        !Number.isFinite(Number(parsed.timestamp))
      ) {
        badLines++;
        continue;
      }
      records.push(parsed);
    } catch {
      badLines++;
    }
  }
  return { records, badLines };
}

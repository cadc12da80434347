import { createHash } from 'node:crypto';

/** Server limits of MLflow's log-batch and of keys and values (lengths in code points). */
export const LIMITS = {
  metricsPerBatch: 1000,
  paramsPerBatch: 100,
  tagsPerBatch: 100,
  itemsPerBatch: 1000,
  /** Request body budget of one log-batch in bytes (the server takes up to 1 MB; this leaves room). */
  batchBytes: 900_000,
  keyLength: 250,
  paramValueLength: 6000,
  tagValueLength: 8000,
  experimentNameLength: 500,
} as const;

/** One metric point as MLflow stores it. */
export interface Metric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
  /** Links the point to an MLflow 3 logged model too. */
  model_id?: string;
}

/** A key/value pair: a param or a tag. */
export interface KeyValue {
  key: string;
  value: string;
}

/** What a log-batch request carries. */
export interface Batch {
  metrics: Metric[];
  params: KeyValue[];
  tags: KeyValue[];
}

/** Length in code points, as the server counts it. */
export function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** The first `max` code points of `text`. */
export function truncateCodePoints(text: string, max: number): string {
  if (text.length <= max) return text;
  return Array.from(text).slice(0, max).join('');
}

const KEY_CHAR = /[\p{L}\p{N}_/.\- :]/u;

/**
 * A key the server accepts: characters outside `[\w/.\- :]` become `_`, no leading `/`, no `//`, no `.`/`..`
 * segments, at most 250 code points (longer keys keep a short hash of the original at the end).
 */
export function safeKey(raw: string): string {
  let key = Array.from(raw, (c) => (KEY_CHAR.test(c) ? c : '_')).join('');
  key = key.replace(/\/{2,}/g, '/').replace(/^\/+/, '');
  key = key
    .split('/')
    .map((segment) => (segment === '.' || segment === '..' ? segment.replace(/\./g, '_') : segment))
    .join('/');
  if (key === '') key = '_';
  if (codePoints(key) > LIMITS.keyLength) {
    const hash = createHash('sha256').update(raw).digest('hex').slice(0, 8);
    key = `${truncateCodePoints(key, LIMITS.keyLength - 9)}~${hash}`;
  }
  return key;
}

/** JSON.stringify that writes NaN and ±Infinity as the strings "NaN", "Infinity", "-Infinity" (what MLflow accepts). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
    return v;
  });
}

/** MLflow stores ±Infinity as ±DBL_MAX and returns NaN as "NaN": this maps both back to JS numbers. */
export function decodeMetricValue(value: unknown): number {
  if (typeof value === 'number') {
    if (value === Number.MAX_VALUE) return Infinity;
    if (value === -Number.MAX_VALUE) return -Infinity;
    return value;
  }
  if (value === 'NaN') return NaN;
  if (value === 'Infinity') return Infinity;
  if (value === '-Infinity') return -Infinity;
  return Number(value);
}

const BATCH_OVERHEAD_BYTES = 200;

/**
 * Splits a batch into requests within the server's limits (per-kind counts, 1000 items, byte budget).
 * Order inside each kind is kept; params and tags come before metrics.
 */
export function chunkBatch(batch: Partial<Batch>): Batch[] {
  const chunks: Batch[] = [];
  let current: Batch = { metrics: [], params: [], tags: [] };
  let bytes = BATCH_OVERHEAD_BYTES;
  const items = () => current.metrics.length + current.params.length + current.tags.length;
  const flush = () => {
    if (items() > 0) chunks.push(current);
    current = { metrics: [], params: [], tags: [] };
    bytes = BATCH_OVERHEAD_BYTES;
  };
  const add = <K extends keyof Batch>(kind: K, item: Batch[K][number], perKind: number) => {
    const size = Buffer.byteLength(toJson(item)) + 1;
    if (current[kind].length >= perKind || items() >= LIMITS.itemsPerBatch || (items() > 0 && bytes + size > LIMITS.batchBytes)) {
      flush();
    }
    (current[kind] as Batch[K][number][]).push(item);
    bytes += size;
  };
  for (const p of batch.params ?? []) add('params', p, LIMITS.paramsPerBatch);
  for (const t of batch.tags ?? []) add('tags', t, LIMITS.tagsPerBatch);
  for (const m of batch.metrics ?? []) add('metrics', m, LIMITS.metricsPerBatch);
  flush();
  return chunks;
}

import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { formatMetricsLine } from '../tracking/metrics-file.ts';
import type { MetricRecord } from '../train/metrics.ts';
import { writeOwner } from '../common/owner.ts';

/** The run folder's file that names the model's classes in output order (a JSON array). */
export const CLASSES_FILE = 'classes.json';

/** A new run id: sortable by time, unique enough for parallel trials (`20261129-101502-3fa9c2`). */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

/**
 * The folder of one run (`runs/<experiment>/<run-id>/`). Every write goes straight to disk, so an
 * interrupted run keeps everything up to its last completed step. `owner.json` names the process
 * that runs it, so `runner sync` can tell a run killed hard (left RUNNING) from one still going.
 */
export class RunFolder {
  readonly dir: string;
  private metricsFd: number | undefined;

  constructor(
    runsDir: string,
    experiment: string,
    readonly runId: string = newRunId(),
  ) {
    this.dir = join(runsDir, experiment, runId);
    mkdirSync(this.dir, { recursive: true });
    writeOwner(this.dir);
  }

  /** The folder of an existing run (`<runs>/<experiment>/<run-id>`), taken over by this process (`--resume`). */
  static existing(dir: string): RunFolder {
    return new RunFolder(dirname(dirname(dir)), basename(dirname(dir)), basename(dir));
  }

  /** Absolute path of a file in the run folder. */
  path(name: string): string {
    return join(this.dir, name);
  }

  /** Writes `config.yaml`: the fully resolved config. */
  writeConfig(config: unknown, header: string): void {
    writeFileSync(this.path('config.yaml'), `# ${header}\n` + stringify(config, { lineWidth: 0 }));
  }

  /** Writes any text file of the run. */
  writeText(name: string, text: string): void {
    writeFileSync(this.path(name), text);
  }

  /** Writes a JSON file of the run (pretty-printed). */
  writeJson(name: string, value: unknown): void {
    writeFileSync(this.path(name), JSON.stringify(value, null, 2) + '\n');
  }

  /** Appends one record to `metrics.jsonl` (written through to the OS immediately). */
  appendMetrics(record: MetricRecord): void {
    this.metricsFd ??= openSync(this.path('metrics.jsonl'), 'a');
    writeSync(this.metricsFd, formatMetricsLine(record)); // NaN and ±Infinity kept as strings, not null
  }

  /** Closes open files. */
  close(): void {
    if (this.metricsFd !== undefined) closeSync(this.metricsFd);
    this.metricsFd = undefined;
  }
}

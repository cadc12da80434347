/**
 * `runner watch`: runs a config (or its sweep), watches it and every file it extends, and on each change runs what
 * changed: an invalid edit only prints its diagnostics (the current run goes on), an edit that resolves to the same
 * config does nothing, any other edit stops the runs whose config changed (MLflow KILLED) and starts the new ones.
 */
import { resolve } from 'node:path';
import { watch as watchFiles, type FSWatcher } from 'chokidar';
import { ConfigDiagnosticsError, formatDiagnostics } from '../config/diagnostics.ts';
import type { ConfigOverride } from '../config/load.ts';
import { loadPlugins } from '../config/plugins.ts';
import { flattenLeaves } from '../config/tree.ts';
import { UserError } from '../errors.ts';
import { writeOwner } from '../common/owner.ts';
import type { RunStatus } from '../tracking/client.ts';
import { changeLine, counts } from '../sweep/display.ts';
import { displayPath } from '../sweep/emit.ts';
import { SweepFolder } from '../sweep/folder.ts';
import { planSweepChecked, type PlannedRun, type SweepPlan } from '../sweep/plan.ts';
import { TrialPool } from '../sweep/pool.ts';
import { openRecords, type SweepRecords, type SweepStatus } from '../sweep/records.ts';
import { trialProcessEnv } from '../sweep/run-sweep.ts';
import { readRawConfig } from '../sweep/source.ts';
import { adoptRun, closeSweep, sweepEndStatus } from '../sweep/session.ts';
import { describeState, finalMetric, TERMINAL_STATES, type TrialProgress } from '../sweep/state.ts';
import { formatMetric } from '../sweep/table.ts';
import { useColor } from '../terminal.ts';
import { StatusLine } from './status-line.ts';

/** Options of watchConfig. */
export interface WatchOptions {
  /** The config file. */
  file: string;
  /** `--set` overrides (applied on every reload). */
  overrides?: ConfigOverride[];
  /** Where run folders go. */
  runsDir: string;
  /** Aborting (Ctrl-C) stops the runs cleanly (KILLED) and ends the watch. */
  signal: AbortSignal;
  /** Where messages and the status line go (default stderr). */
  err?: NodeJS.WriteStream;
  /** Quiet time after the last change before reloading, ms (default 300). */
  debounceMs?: number;
  /** Environment (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** The runner executable for trial processes (default bin/runner.js). */
  bin?: string;
}

/** One plan (config version) the session has run: its folder, records and trials. */
interface PlanEntry {
  plan: SweepPlan;
  folder: SweepFolder;
  records: SweepRecords;
  trials: TrialProgress[];
  finalized: boolean;
}

/** Runs and watches a config until the signal aborts; resolves to the exit code (0). */
export async function watchConfig(options: WatchOptions): Promise<number> {
  const session = new WatchSession(options);
  return session.run();
}

class WatchSession {
  readonly #options: WatchOptions;
  readonly #status: StatusLine;
  readonly #err: NodeJS.WriteStream;
  readonly #entries = new Map<string, PlanEntry>();
  readonly #entryOf = new WeakMap<TrialProgress, PlanEntry>();
  /** Trials of sweeps by config hash: an edit re-runs only trials whose resolved config changed. */
  readonly #byHash = new Map<string, TrialProgress>();
  #current: PlanEntry | undefined;
  #pool!: TrialPool;
  #watcher: FSWatcher | undefined;
  #watched = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #reloading: Promise<void> = Promise.resolve();
  #invalid = false;
  #maxParallel = 1;
  #stopping = false;
  readonly #printed = new WeakMap<TrialProgress, string>();
  readonly #finalizing = new Set<Promise<void>>();

  constructor(options: WatchOptions) {
    this.#options = options;
    this.#err = options.err ?? process.stderr;
    this.#status = new StatusLine(this.#err);
  }

  async run(): Promise<number> {
    const { options } = this;
    this.#pool = new TrialPool({
      runsDir: options.runsDir,
      folderFor: (progress) => this.#entryOf.get(progress)!.folder,
      maxParallel: 1,
      failFast: false,
      prewarm: true,
      keepWarm: true,
      metric: 'test_accuracy',
      processEnv: (spawnIndex, device) => trialProcessEnv(this.#maxParallel, spawnIndex, device, options.env ?? process.env),
      parentRunId: (progress) => this.#entryOf.get(progress)!.records.parentRunId,
      onChange: () => this.#onChange(),
      onTrialEnd: (progress) => this.#entryOf.get(progress)!.records.trialEnded(progress),
      log: (line) => this.#status.print(`watch: ${line}`),
      bin: options.bin,
    });
    const stopped = new Promise<void>((resolve) => {
      if (options.signal.aborted) resolve();
      options.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await this.#reload(true);
    this.#watcher = watchFiles([...this.#watched], { ignoreInitial: true, persistent: true });
    this.#watcher.on('all', (_event, path) => this.#changed(path));
    this.#watcher.on('error', (error) => this.#status.print(`watch: cannot watch a file: ${(error as Error).message}`));
    await stopped;
    await this.#stop();
    return 0;
  }

  get options(): WatchOptions {
    return this.#options;
  }

  #changed(path: string): void {
    if (this.#stopping) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#reloading = this.#reloading
        .then(() => this.#reload(false, path))
        .catch((error: unknown) => {
          this.#status.print(`watch: ${(error as Error).message}`);
        });
    }, this.#options.debounceMs ?? 300);
  }

  async #reload(initial: boolean, changedFile?: string): Promise<void> {
    if (this.#stopping) return;
    const { file } = this.#options;
    const name = displayPath(process.cwd(), changedFile ?? file);
    let plan: SweepPlan;
    try {
      await loadPlugins(file, this.#options.overrides); // a plugin added by the edit is imported; one imported before stays
      plan = (await planSweepChecked(file, { overrides: this.#options.overrides, env: this.#options.env })).plan;
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      this.#watchFiles(this.#filesOf(file));
      this.#invalid = true;
      const running = this.#runningTrials().length > 0;
      this.#status.print(
        `watch: ${initial ? name : `${name} changed, but`} the config is invalid${running ? '; the current run keeps going' : ''}:\n` +
          (error instanceof ConfigDiagnosticsError
            ? formatDiagnostics(error.diagnostics, { color: useColor(this.#err) })
            : `runner: ${error.message}`),
      );
      this.#showStatus();
      return;
    }
    this.#invalid = false;
    this.#watchFiles(plan.files);
    const previous = this.#current?.plan;
    if (!initial && previous && samePlan(previous, plan)) {
      this.#status.print(`watch: ${name} changed, but the resolved config is the same: nothing to do`);
      this.#showStatus();
      return;
    }
    if (!initial && previous) this.#status.print(`watch: ${name} changed: ${describeChange(previous, plan)}`);
    await this.#apply(plan, initial);
  }

  /** Runs what `plan` needs: kills runs it no longer has, starts those it adds. */
  async #apply(plan: SweepPlan, initial: boolean): Promise<void> {
    const entry = await this.#entry(plan);
    const old = this.#current;
    this.#current = entry;
    this.#maxParallel = plan.sweep?.max_parallel ?? 1;
    const toRun: TrialProgress[] = [];
    if (plan.sweep) {
      const found = await entry.records.lookup(plan.trials.filter((t) => !this.#byHash.has(t.hash)).map((t) => t.hash));
      entry.trials = plan.trials.map((trial) => {
        const known = this.#byHash.get(trial.hash);
        if (trial.duplicateOf !== undefined) return this.#track(entry, { trial, state: 'duplicate', epochs: trial.config.train.epochs });
        if (known && known.state !== 'killed' && known.state !== 'cancelled') {
          known.trial = trial;
          this.#entryOf.set(known, this.#entryOf.get(known) ?? entry);
          return known;
        }
        const progress = this.#track(entry, { trial, state: 'pending', epochs: trial.config.train.epochs });
        const run = found.get(trial.hash);
        if (run?.status === 'FINISHED') adoptRun(progress, run, 'done', plan.metric.name);
        else toRun.push(progress);
        this.#byHash.set(trial.hash, progress);
        return progress;
      });
      const wanted = new Set(plan.trials.map((t) => t.hash));
      this.#pool.cancel((p) => !wanted.has(p.trial.hash));
    } else {
      const trial = plan.trials[0]!;
      const progress = this.#track(entry, { trial, state: 'pending', epochs: trial.config.train.epochs });
      entry.trials = [progress];
      toRun.push(progress);
      this.#pool.cancel((p) => p !== progress);
    }
    // A previous version of a sweep keeps its parent run until its trials have ended (unchanged ones may still run).
    if (old !== entry) entry.finalized = false;
    this.#pool.setMaxParallel(this.#maxParallel);
    this.#pool.setMetric(plan.metric.name);
    this.#pool.add(toRun);
    const skipped = entry.trials.filter((t) => t.state === 'done').length;
    if (plan.sweep && (initial || skipped > 0)) {
      this.#status.print(
        `watch: sweep ${plan.hash.slice(0, 12)} of ${plan.name}: ${plan.trials.length} trials, ${toRun.length} to run` +
          (skipped > 0 ? `, ${skipped} already finished` : '') +
          (entry.records.parentUrl ? `; parent run ${entry.records.parentUrl}` : ''),
      );
    }
    this.#onChange();
  }

  #track(entry: PlanEntry, progress: TrialProgress): TrialProgress {
    this.#entryOf.set(progress, entry);
    return progress;
  }

  async #entry(plan: SweepPlan): Promise<PlanEntry> {
    const existing = this.#entries.get(plan.hash);
    if (existing) return existing;
    const folder = new SweepFolder(this.#options.runsDir, plan, plan.sweep ? undefined : 'watch').prepare();
    const log = (line: string) => this.#status.print(`watch: ${line}`);
    const records: SweepRecords = plan.sweep
      ? await openRecords(plan, {
          runsDir: this.#options.runsDir,
          folder,
          env: this.#options.env,
          log,
          sourceName: `runner watch ${displayPath(process.cwd(), plan.file)}`,
        })
      : await openRecords({ ...plan, tracking: { ...plan.tracking, enabled: false } }, { runsDir: this.#options.runsDir, folder, log }); // one run: no parent
    const entry: PlanEntry = { plan, folder, records, trials: [], finalized: false };
    this.#entries.set(plan.hash, entry);
    if (plan.sweep) writeOwner(folder.dir); // this process owns the version's parent run (runner sync closes it if we die)
    this.#saveState(entry, 'RUNNING');
    return entry;
  }

  /** state.json of a sweep version: its trials, parent run and status (single runs have their run folder). */
  #saveState(entry: PlanEntry, status: RunStatus): void {
    if (entry.plan.sweep) entry.folder.writeOwnedState(entry.trials, entry.records.parentRunId, entry.records.target, status);
  }

  #onChange(): void {
    const entry = this.#current;
    if (!entry) return;
    if (!entry.finalized) this.#saveState(entry, 'RUNNING');
    for (const other of this.#entries.values()) this.#finalizeIfEnded(other);
    for (const trial of entry.trials) {
      const line = `${trial.state}`;
      if (this.#printed.get(trial) === line) continue;
      this.#printed.set(trial, line);
      if (trial.state === 'pending' || trial.state === 'starting' || trial.state === 'duplicate' || trial.state === 'done') continue;
      this.#status.print(`watch: ${entry.plan.sweep ? changeLine(trial, entry.plan.metric) : runLine(trial, entry.plan)}`);
    }
    this.#showStatus();
  }

  /** Closes the parent run of a sweep version once all its trials have ended. */
  #finalizeIfEnded(entry: PlanEntry): void {
    if (entry.finalized || entry.trials.length === 0 || !entry.trials.every((t) => TERMINAL_STATES.has(t.state))) return;
    entry.finalized = true;
    if (!entry.plan.sweep) return;
    const done = this.#finalize(entry, sweepEndStatus(entry.trials));
    this.#finalizing.add(done);
    void done.finally(() => this.#finalizing.delete(done));
  }

  async #finalize(entry: PlanEntry, status: SweepStatus): Promise<void> {
    if (await closeSweep(entry.records, entry.trials, status, (line) => this.#status.print(`watch: ${line}`)))
      this.#saveState(entry, status);
  }

  #showStatus(): void {
    if (this.#stopping) return;
    const files = this.#watched.size;
    const watching = `watching ${files} file${files === 1 ? '' : 's'} (Ctrl-C to stop)`;
    const running = this.#runningTrials();
    const entry = this.#current;
    let text: string;
    if (running.length > 0) {
      const first = running[0]!;
      const detail = entry?.plan.sweep
        ? counts(entry.trials)
        : `epoch ${first.epoch ?? 0}/${first.epochs}${first.metric === undefined ? '' : `, ${entry?.plan.metric.name} ${formatMetric(first.metric)}`}`;
      text = `running${this.#invalid ? ' (config invalid: keeping the current run)' : ''} · ${detail} · ${watching}`;
    } else if (this.#invalid) {
      text = `waiting for a valid config · ${watching}`;
    } else {
      text = `${entry ? `done: ${entry.plan.sweep ? counts(entry.trials) : describeState(entry.trials[0]!)}` : 'idle'} · ${watching}`;
    }
    this.#status.set(`watch: ${text}`);
  }

  #runningTrials(): TrialProgress[] {
    return [...this.#entries.values()]
      .flatMap((e) => e.trials)
      .filter((t) => t.state === 'running' || t.state === 'starting' || t.state === 'pending');
  }

  #filesOf(file: string): string[] {
    try {
      return readRawConfig(file).files;
    } catch {
      return [...new Set([...this.#watched, resolve(file)])]; // a file that cannot be read: watch what we have
    }
  }

  #watchFiles(files: string[]): void {
    const next = new Set(files);
    const added = [...next].filter((f) => !this.#watched.has(f));
    const removed = [...this.#watched].filter((f) => !next.has(f));
    this.#watched = next;
    if (!this.#watcher) return;
    if (removed.length > 0) this.#watcher.unwatch(removed);
    if (added.length > 0) this.#watcher.add(added);
  }

  async #stop(): Promise<void> {
    this.#stopping = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#watcher?.close();
    await this.#reloading.catch(() => {});
    const running = this.#runningTrials().filter((t) => t.state !== 'pending').length;
    if (running > 0) this.#status.print(`watch: stopping ${running} run${running === 1 ? '' : 's'} (they end KILLED)`);
    this.#pool.stopAll();
    await this.#pool.drained();
    await this.#pool.close();
    await Promise.all([...this.#finalizing]);
    for (const entry of this.#entries.values()) {
      if (!entry.finalized && entry.plan.sweep) {
        entry.finalized = true;
        await this.#finalize(entry, sweepEndStatus(entry.trials));
      }
      await entry.records.close();
    }
    this.#status.end();
    this.#status.print('watch: stopped');
  }
}

/** Same trials and the same settings that change how they run. */
function samePlan(a: SweepPlan, b: SweepPlan): boolean {
  return a.hash === b.hash && a.sweep?.max_parallel === b.sweep?.max_parallel && a.sweep?.fail_fast === b.sweep?.fail_fast;
}

/** What an edit changed, for people: `train.epochs 5 → 2` or `2 trials changed, 1 added`. */
export function describeChange(before: SweepPlan, after: SweepPlan): string {
  if (!before.sweep && !after.sweep) {
    const diff = diffLeaves(before.trials[0]!, after.trials[0]!);
    return `${diff.length > 0 ? diff.slice(0, 4).join(', ') + (diff.length > 4 ? `, and ${diff.length - 4} more` : '') : 'the resolved config changed'}; restarting the run`;
  }
  const old = new Set(before.trials.map((t) => t.hash));
  const now = new Set(after.trials.map((t) => t.hash));
  const added = after.trials.filter((t) => !old.has(t.hash)).length;
  const removed = before.trials.filter((t) => !now.has(t.hash)).length;
  const parts = [`${added} trial${added === 1 ? '' : 's'} new or changed`, `${removed} gone`, `${after.trials.length - added} unchanged`];
  return `${parts.join(', ')}; only new and changed trials run`;
}

function diffLeaves(a: PlannedRun, b: PlannedRun): string[] {
  const before = new Map(flattenLeaves(a.config));
  const after = new Map(flattenLeaves(b.config));
  const keys = [...new Set([...before.keys(), ...after.keys()])];
  const show = (v: unknown) => (v === undefined ? '(unset)' : JSON.stringify(v));
  return keys
    .filter((k) => JSON.stringify(before.get(k)) !== JSON.stringify(after.get(k)))
    .map((k) => `${k} ${show(before.get(k))} → ${show(after.get(k))}`);
}

function runLine(trial: TrialProgress, plan: SweepPlan): string {
  switch (trial.state) {
    case 'running':
      return `run started: ${trial.runDir}`;
    case 'finished':
      return `run finished: ${plan.metric.name} ${formatMetric(finalMetric(trial, plan.metric))} (${trial.runDir})`;
    case 'killed':
      return `run stopped (KILLED)${trial.runDir ? `: ${trial.runDir}` : ''}`;
    case 'failed':
      return `run failed: ${trial.error ?? 'see its log'}${trial.logFile ? ` (log: ${trial.logFile})` : ''}`;
    default:
      return `run ${describeState(trial)}`;
  }
}

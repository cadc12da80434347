import { stringify } from 'yaml';
import { describeBackend, selectBackend, type BackendReport } from '../backend/select.ts';
import type { LoadedConfig } from '../config/load.ts';
import { exitCodeOf } from '../errors.ts';
import type { Progress } from '../progress.ts';
import { trainLoop, type LoopResult } from '../train/loop.ts';
import type { MetricRecord } from '../train/metrics.ts';
import { withSeededMathRandom } from '../train/random.ts';
import { resolveLifecycle, type Lifecycle } from '../config/lifecycle.ts';
import type { Monitor } from '../train/selection.ts';
import { CheckpointStore, type LoadedCheckpoint } from '../train/checkpoint.ts';
import type { TrainingState } from '../train/loop.ts';
import { formatMetricsLine, readMetricsFile, type MetricsRecord } from '../tracking/metrics-file.ts';
import {
  buildExperiment,
  modelIntraOpThreads,
  runScheduler,
  describeBuilt,
  describeSplits,
  disposeBuilt,
  type BuiltExperiment,
} from './build.ts';
import type { LrScheduler } from '../train/schedule.ts';
import type { ComponentConfig, ExperimentConfig } from '../config/schema.ts';
import type { BuildContext } from '../registry.ts';
import type { RunEventSink } from './run-events.ts';
import { locatedAt } from '../config/issues.ts';
import { createTracker } from '../tracking/tracker.ts';
import { TAGS } from '../tracking/tags.ts';
import { datasetInputs } from '../tracking/inputs.ts';
import { createSystemSampler } from '../tracking/system-metrics.ts';
import { join, relative } from 'node:path';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { saveModel } from './model-io.ts';
import { configHash, gitInfo, runnerVersion } from '../common/provenance.ts';
import { CLASSES_FILE, RunFolder } from './run-folder.ts';
import { confusionMatrixPng, trainingCurvesPng, type EpochPoint } from './plot.ts';
import type { RunFolderWriter } from '../data/types.ts';
import { describeEmbedding } from '../../components/embedding/apply.ts';

/** Options of one run. */
export interface RunOptions {
  /** Folder that holds `<experiment>/<run-id>/` folders. */
  runsDir: string;
  progress: Progress;
  /** Print what would be built and stop before training. */
  dryRun?: boolean;
  /** Aborting stops the run after the current step; it ends KILLED. */
  signal?: AbortSignal;
  /** Receives the run folder as soon as it exists (tests, sweeps). */
  onRunFolder?(folder: RunFolder): void;
  /** Continue an interrupted run in its own folder and MLflow run, from its last checkpoint (see resume.ts). */
  resume?: ResumePoint;
  /** The MLflow run this run is nested under (a sweep's parent run). */
  parentRunId?: string;
  /** Receives the run folder, the MLflow run and every metrics record as data (a sweep's trial reports them). */
  events?: RunEventSink;
}

/** Where a resumed run continues: its folder and the checkpoint read from it. */
export interface ResumePoint {
  runDir: string;
  checkpoint: LoadedCheckpoint<TrainingState>;
}

/** What every checkpoint of a run records besides the training state: how to load the same config again. */
export interface RunCheckpointInfo {
  config: { file: string; overrides: Array<{ path: (string | number)[]; value: unknown; origin: string }>; hash: string };
  mlflow_run_id?: string;
}

/** What a run produced. */
export interface RunOutcome {
  status: 'FINISHED' | 'FAILED' | 'KILLED' | 'DRY_RUN';
  runDir?: string;
  runId?: string;
  metrics: Record<string, number>;
  backend: BackendReport;
  /** The metric that selected the kept epoch, when there was one. */
  monitor?: Monitor;
  /** The run's MLflow run and its UI address, when tracked. */
  mlflowRunId?: string;
  mlflowRunUrl?: string;
  error?: unknown;
}

/** Runs one experiment end to end: backend, data, model, training, run folder. */
export async function runExperiment(loaded: LoadedConfig, options: RunOptions): Promise<RunOutcome> {
  const { config } = loaded;
  const { progress } = options;
  const backend = await selectBackend(config.train.device, {
    warn: (m) => progress.warn(m),
    intraOpThreads: modelIntraOpThreads(config.model as ComponentConfig),
  });
  progress.info(`backend: ${describeBackend(backend)}`);
  const context = { configDir: loaded.file.replace(/[/\\][^/\\]*$/, ''), warn: (m: string) => progress.warn(m) };
  const lifecycle = resolveLifecycle(config); // its errors were thrown by loadConfig; its warnings are printed here
  for (const warning of loaded.locate(lifecycle.issues.filter((i) => i.severity === 'warning')))
    progress.warn(`${formatWhere(warning)} ${warning.message}`);
  const { resume } = options;

  return withSeededMathRandom(config.seed, async (mathRandom) => {
    if (options.dryRun) {
      const built = await buildExperiment(config, context);
      try {
        for (const warning of loaded.locate(built.plan.warnings)) progress.warn(`${formatWhere(warning)} ${warning.message}`);
        await scheduleFor(config, built, lifecycle, context); // sets the starting rates; its errors surface here
        progress.info(
          `# resolved config of ${loaded.file}\n${stringify(config, { lineWidth: 0 })}\n${describeBuilt(built)}\n\n` +
            describeLifecycle(config, lifecycle, built.optimizer.learningRates()),
        );
      } finally {
        disposeBuilt(built);
      }
      return { status: 'DRY_RUN', metrics: {}, backend };
    }
    const folder = resume ? RunFolder.existing(resume.runDir) : new RunFolder(options.runsDir, config.name);
    options.onRunFolder?.(folder);
    options.events?.({ type: 'run_folder', run_id: folder.runId, run_dir: folder.dir });
    // A resumed run drops what the interrupted process logged after its last checkpoint: the same steps come again.
    const resent = resume ? truncateMetrics(folder.path('metrics.jsonl'), resume.checkpoint.state.epoch) : undefined;
    // Created before the data loads, so the embedded MLflow server starts meanwhile.
    const tracker = createTracker({
      tracking: config.tracking,
      runDir: folder.dir,
      configName: config.name,
      storeDir: join(options.runsDir, 'mlflow'),
      log: (line) => progress.info(`tracking: ${line}`),
    });
    let built: BuiltExperiment;
    try {
      built = await buildExperiment(config, context);
    } catch (error) {
      await tracker.finish('FAILED', error);
      rmSync(folder.dir, { recursive: true, force: true });
      throw error;
    }
    for (const warning of loaded.locate(built.plan.warnings)) progress.warn(`${formatWhere(warning)} ${warning.message}`);
    let scheduler: LrScheduler;
    try {
      scheduler = await scheduleFor(config, built, lifecycle, context);
    } catch (error) {
      disposeBuilt(built);
      await tracker.finish('FAILED', error);
      if (!resume) rmSync(folder.dir, { recursive: true, force: true });
      throw error;
    }
    const started = Date.now();
    const hash = configHash(config);
    folder.writeConfig(config, `resolved from ${loaded.file}; run again with: runner run ${folder.path('config.yaml')}`);
    progress.info(
      resume
        ? `run ${folder.runId} resumed after epoch ${resume.checkpoint.state.epoch} (step ${resume.checkpoint.state.step}) from ${resume.checkpoint.dir}`
        : `run ${folder.runId}: ${folder.dir}`,
    );
    const record = built.data.runRecord;
    progress.info(
      `data: ${describeSplits(built.data)}` +
        (record?.details ? `, ${record.details}` : '') +
        ` (prepared in ${built.data.dataSeconds.toFixed(2)} s)`,
    );
    if (built.embedding) progress.info(describeEmbedding(built.embedding));
    const writer: RunFolderWriter = {
      seed: config.seed,
      writeFile: (name, contents) => writeFileSync(folder.path(name), contents),
      writeJson: (name, value) => folder.writeJson(name, value),
      info: (message) => progress.info(message),
    };
    folder.writeJson(CLASSES_FILE, built.data.classes); // the model's output order, for runner predict and evaluate
    record?.beforeTraining?.(writer);
    let result: LoopResult | undefined;
    let failure: unknown;
    const curve: EpochPoint[] = (resume?.checkpoint.state.epochs ?? []).map((metrics, i) => ({ epoch: i + 1, ...metrics }));
    const checkpoints = new CheckpointStore(folder.dir);
    checkpoints.removePartials();
    const checkpointInfo = (): RunCheckpointInfo => ({
      config: { file: loaded.file, overrides: loaded.overrides, hash },
      mlflow_run_id: tracker.runId,
    });
    const sampleSystem = config.tracking && config.tracking.system_metrics ? createSystemSampler() : undefined;
    let trainStarted = started;
    let lastRecord: MetricRecord | undefined; // after training: the final record (test metrics of the kept model)
    try {
      await tracker.start({
        experiment: config.name,
        runName: config.tracking ? config.tracking.run_name : undefined,
        description: config.description,
        params: config as unknown as Record<string, unknown>,
        configHash: hash,
        backend: describeBackend(backend),
        device: config.train.device,
        sourceName: `runner run ${relative(process.cwd(), loaded.file) || loaded.file}`,
        tags: options.parentRunId ? { [TAGS.parentRunId]: options.parentRunId } : {},
        startTime: started,
        resume: resume && resent && { afterStep: resume.checkpoint.state.step, ...resent },
      });
      if (tracker.runId) options.events?.({ type: 'tracked', mlflow_run_id: tracker.runId });
      if (built.data.dataset) tracker.inputs(datasetInputs(built.data.dataset));
      trainStarted = Date.now();
      result = await trainLoop(
        built.model,
        built.optimizer,
        built.data,
        {
          epochs: config.train.epochs,
          batchSize: config.data.batch_size,
          evalBatchSize: config.data.eval_batch_size ?? config.data.batch_size * 4,
          shuffle: config.train.shuffle,
          logEverySteps: config.train.log_every_steps,
          maxStepsPerEpoch: config.train.max_steps_per_epoch,
          seed: config.seed,
          evalTestEveryEpoch: config.train.eval_test_every_epoch,
          monitor: lifecycle.monitor,
          restoreBest: lifecycle.restoreBest,
          earlyStopping: lifecycle.earlyStopping,
        },
        {
          metrics: (record: MetricRecord) => {
            if (sampleSystem && record.metrics.epoch_time_s !== undefined) Object.assign(record.metrics, sampleSystem());
            folder.appendMetrics(record);
            tracker.metrics(record);
            lastRecord = record;
            const { epoch, step, metrics } = record;
            options.events?.({ type: 'metrics', epoch, step, metrics, epoch_end: metrics.epoch_time_s !== undefined });
          },
          progress: (p) => progress.step(p),
          epochEnd: (record, { improved }) => {
            curve.push({ epoch: record.epoch, ...record.metrics });
            writeFileSync(folder.path('training_curves.png'), trainingCurvesPng(curve)); // redrawn every epoch
            progress.epoch(record, config.train.epochs, improved);
          },
          message: (line) => progress.info(line),
          shouldStop: () => options.signal?.aborted ?? false,
        },
        { mathRandom, scheduler, checkpoints, checkpointExtra: checkpointInfo, resume: resume?.checkpoint },
      );
      record?.afterTraining?.(writer, curve);
      if (config.train.save_model && result.epochsCompleted > 0) {
        await saveModel(built.model, folder.path('model'));
        if (result.status === 'FINISHED' && lastRecord) {
          const { metrics, step, timestamp } = lastRecord;
          tracker.loggedModel({ dir: folder.path('model'), name: config.name, modelType: config.model.type, metrics, step, timestamp });
        }
      }
      if (result.testReport) {
        folder.writeJson('classification_report.json', result.testReport);
        writeFileSync(folder.path('confusion_matrix.png'), confusionMatrixPng(result.testReport));
      }
    } catch (error) {
      failure = error;
    } finally {
      folder.close();
      disposeBuilt(built);
    }
    const status = failure ? 'FAILED' : result!.status;
    folder.writeJson('summary.json', {
      status,
      run_id: folder.runId,
      experiment: config.name,
      config_file: loaded.file,
      config_hash: hash,
      metrics: result?.final ?? {},
      last_epoch_metrics: result?.lastEpoch ?? {},
      monitor: lifecycle.monitor ?? null,
      best_epoch: result?.selected?.epoch ?? null,
      best_value: result?.selected?.value ?? null,
      restored_best: result?.selected?.restored ?? false,
      early_stopping: result?.stoppedEarly ?? null,
      resumed_after_epoch: resume?.checkpoint.state.epoch,
      steps: result?.steps ?? 0,
      epochs_completed: result?.epochsCompleted ?? 0,
      backend: { ...backend, description: describeBackend(backend) },
      data_seconds: built.data.dataSeconds,
      started_at: new Date(started).toISOString(),
      duration_s: (Date.now() - started) / 1000,
      train_duration_s: (Date.now() - trainStarted) / 1000,
      git: gitInfo(context.configDir),
      runner_version: runnerVersion(),
      mlflow_run_id: tracker.runId ?? null,
      error: failure ? { message: (failure as Error).message, exit_code: exitCodeOf(failure) } : undefined,
    });
    const tracked = await tracker.finish(status, failure);
    return {
      status,
      runDir: folder.dir,
      runId: folder.runId,
      metrics: result?.final ?? {},
      backend,
      monitor: lifecycle.monitor,
      mlflowRunId: tracked.runId,
      mlflowRunUrl: tracked.runUrl,
      error: failure,
    };
  });
}

function formatWhere(d: { position?: { file: string; line: number; col: number }; origin?: string }): string {
  return d.position ? `${d.position.file}:${d.position.line}:${d.position.col}` : (d.origin ?? '');
}

/**
 * Keeps the records of `metrics.jsonl` up to epoch `lastEpoch` (what the checkpoint holds) and drops later ones,
 * which a resumed run logs again; returns the metric keys dropped (their points may already be in MLflow).
 */
function truncateMetrics(file: string, lastEpoch: number): { keys: string[]; kept: MetricsRecord[] } {
  const { records } = readMetricsFile(file);
  // The final record (test metrics of the kept model, after the last epoch) comes again too.
  const isFinal = (r: (typeof records)[number]) => 'test_loss' in r.metrics && !('epoch_time_s' in r.metrics);
  const keep = (r: (typeof records)[number]) => (r.epoch ?? 0) <= lastEpoch && !isFinal(r);
  const kept = records.filter(keep);
  const dropped = new Set(records.filter((r) => !keep(r)).flatMap((r) => Object.keys(r.metrics)));
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, kept.map((r) => formatMetricsLine(r as MetricRecord)).join(''));
  renameSync(temp, file);
  return { keys: [...dropped], kept };
}

/** The run's learning-rate scheduler (constant rates without optimizer.schedule); its errors are located there. */
function scheduleFor(config: ExperimentConfig, built: BuiltExperiment, lifecycle: Lifecycle, context: BuildContext): Promise<LrScheduler> {
  return locatedAt(['optimizer', 'schedule'], async () => runScheduler(config, built, context, lifecycle.monitor?.goal));
}

/** `--dry-run` lines on model selection, early stopping, the test evaluation and the schedule. */
function describeLifecycle(config: ExperimentConfig, lifecycle: Lifecycle, startRates: Record<string, number>): string {
  const { monitor } = lifecycle;
  const lines = ['training lifecycle:'];
  lines.push(
    monitor
      ? `  monitor: ${monitor.metric} (${monitor.goal}); ${lifecycle.restoreBest ? "the best epoch's weights are restored at the end" : 'the last epoch is kept'}`
      : '  monitor: none (no validation split): the last epoch is kept',
  );
  if (lifecycle.earlyStopping)
    lines.push(`  early stopping: patience ${lifecycle.earlyStopping.patience}, min_delta ${lifecycle.earlyStopping.minDelta}`);
  lines.push(`  test split: ${config.train.eval_test_every_epoch ? 'every epoch, and ' : ''}once at the end on the model that is kept`);
  const schedule = (config.optimizer as { schedule?: { type: string } }).schedule;
  const rates = Object.entries(startRates)
    .map(([group, lr]) => `${group} ${lr}`)
    .join(', ');
  lines.push(`  learning rates: ${schedule ? `schedule ${schedule.type}` : 'constant'}; at the start ${rates}`);
  lines.push('  checkpoints: checkpoints/last after every epoch, checkpoints/best at each new best (runner run --resume continues)');
  return lines.join('\n');
}

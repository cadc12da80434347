import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ConfigOverride } from '../config/load.ts';
import { datasetInfo, type DatasetInfo } from '../data/dataset-info.ts';
import type { Dataset, ImageSplit, TextSplit } from '../data/types.ts';
import { UserError } from '../errors.ts';
import type { Progress } from '../progress.ts';
import { evaluate } from '../train/loop.ts';
import { classificationReport, reportMetrics, type ClassificationReport } from '../train/report.ts';
import { datasetInputs } from '../tracking/inputs.ts';
import { createTracker } from '../tracking/tracker.ts';
import { loadDataset } from './build.ts';
import { confusionMatrixPng } from './plot.ts';
import { TAGS } from '../tracking/tags.ts';
import { Predictor } from './predictor.ts';
import { readSummary } from './resume.ts';
import { newRunId } from './run-folder.ts';

/** A split `runner evaluate` can score. */
export type EvaluationSplit = 'train' | 'validation' | 'test';

/** Options of one evaluation. */
export interface EvaluateOptions {
  runDir: string;
  /** Changes to the run's config before the data is loaded (another dataset: `data.dataset.path=...`; tracking). */
  overrides: ConfigOverride[];
  split: EvaluationSplit;
  /** Where the evaluation folder goes (default: `<run>/evaluations/<id>`). */
  outDir?: string;
  batchSize?: number;
  progress: Progress;
}

/** What an evaluation produced. */
export interface EvaluationOutcome {
  /** The run folder evaluated. */
  runFolder: string;
  /** The evaluation folder written. */
  dir: string;
  metrics: Record<string, number>;
  report: ClassificationReport;
  dataset: DatasetInfo & { split: EvaluationSplit };
  mlflowRunId?: string;
  mlflowRunUrl?: string;
  /** The MLflow run of the training run that was evaluated (from its summary.json). */
  evaluatedMlflowRunId?: string;
}

/**
 * Scores a trained run's model on a split of its dataset (or another one given by overrides), prepared as in
 * training from the run folder (vocabulary, max_len, image steps): accuracy, loss, per-class precision/recall/F1,
 * macro-F1 and the confusion matrix, written to an evaluation folder and, with tracking on, an MLflow run tagged
 * with the training run it evaluated.
 */
export async function evaluateRun(options: EvaluateOptions): Promise<EvaluationOutcome> {
  const { progress } = options;
  const context = { configDir: options.runDir, warn: (m: string) => progress.warn(m) };
  const predictor = await Predictor.load(options.runDir, context, options.overrides);
  try {
    const { config } = predictor;
    const dataset = await loadDataset(config, context);
    const split = splitOf(dataset, options.split);
    const labels = modelLabels(split.labels, dataset.classes, predictor.classes, config.data.dataset.type);
    const info = { ...datasetInfo(dataset, config.data.dataset.type), split: options.split };
    progress.info(`evaluating ${predictor.runDir} on the ${options.split} split of ${dataset.source} (${labels.length} examples)`);
    const source =
      dataset.kind === 'text'
        ? predictor.source(predictor.encodeTexts((split as TextSplit).texts), labels)
        : predictor.source((split as ImageSplit).pixels, labels, (split as ImageSplit).files);
    if (dataset.kind === 'image' && predictor.input.kind === 'image') {
      const stored = predictor.input.storedShape.join('x');
      if (dataset.imageShape.join('x') !== stored)
        throw new UserError(
          `The dataset's images are stored at ${dataset.imageShape.join('x')}, but the run's model was trained on ${stored}.`,
        );
    }
    let result;
    try {
      result = evaluate(predictor.model, source, predictor.classes.length, options.batchSize ?? config.data.eval_batch_size ?? 256);
    } finally {
      source.dispose();
    }
    const report = classificationReport(labels, result.predictions, predictor.classes);
    const metrics = { loss: result.loss, accuracy: result.accuracy, ...reportMetrics(report, '') };
    const dir = resolve(options.outDir ?? join(predictor.runDir, 'evaluations', newRunId()));
    mkdirSync(dir, { recursive: true });
    const evaluated = { mlflow_run_id: readSummary(predictor.runDir).mlflow_run_id ?? undefined };
    const record = {
      run_folder: predictor.runDir,
      evaluated_mlflow_run_id: evaluated.mlflow_run_id ?? null,
      dataset: info,
      metrics,
      report,
      evaluated_at: new Date().toISOString(),
    };
    writeFileSync(join(dir, 'evaluation.json'), JSON.stringify(record, null, 2) + '\n');
    writeFileSync(join(dir, 'confusion_matrix.json'), JSON.stringify({ classes: report.classes, confusion: report.confusion }) + '\n');
    writeFileSync(join(dir, 'confusion_matrix.png'), confusionMatrixPng(report));

    const tracker = createTracker({
      tracking: config.tracking,
      runDir: dir,
      configName: config.name,
      storeDir: join(dirname(dirname(predictor.runDir)), 'mlflow'),
      log: (line) => progress.info(`tracking: ${line}`),
    });
    await tracker.start({
      experiment: config.name,
      runName: `evaluate ${basename(predictor.runDir)} on ${info.name} ${options.split}`,
      description: `Evaluation of run ${basename(predictor.runDir)} on the ${options.split} split of ${dataset.source}.`,
      params: { evaluated_run: basename(predictor.runDir), split: options.split, data: { dataset: config.data.dataset } },
      sourceName: `runner evaluate ${relative(process.cwd(), predictor.runDir) || predictor.runDir}`,
      tags: {
        [TAGS.kind]: 'evaluation',
        [TAGS.evaluatedRunFolder]: basename(predictor.runDir),
        ...(evaluated.mlflow_run_id && { [TAGS.evaluatedRunId]: evaluated.mlflow_run_id }),
      },
    });
    tracker.inputs(datasetInputs(info, { splits: [options.split], context: 'eval' }));
    tracker.metrics({ step: 0, timestamp: Date.now(), metrics });
    const finished = await tracker.finish('FINISHED');
    return {
      runFolder: predictor.runDir,
      dir,
      metrics,
      report,
      dataset: info,
      mlflowRunId: finished.runId,
      mlflowRunUrl: finished.runUrl,
      evaluatedMlflowRunId: evaluated.mlflow_run_id,
    };
  } finally {
    predictor.dispose();
  }
}

function splitOf(dataset: Dataset, split: EvaluationSplit): TextSplit | ImageSplit {
  const found = dataset[split];
  if (!found) {
    throw new UserError(
      `The dataset ${dataset.source} has no validation split: give the run's data.validation (it is in its config.yaml) or a dataset with its own validation split.`,
    );
  }
  return found;
}

/**
 * The dataset's labels as the model's class indices, matched by class name: the dataset may hold fewer classes
 * than the model, not others (a class count or names that do not match the model are an error naming both).
 */
function modelLabels(labels: Int32Array, datasetClasses: string[], modelClasses: string[], type: string): Int32Array {
  const unknown = datasetClasses.filter((c) => !modelClasses.includes(c));
  if (unknown.length > 0) {
    throw new UserError(
      `The dataset (${type}) has ${datasetClasses.length} classes (${datasetClasses.join(', ')}) but the model knows ${modelClasses.length} ` +
        `(${modelClasses.join(', ')}); ${unknown.map((c) => `'${c}'`).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not among them.`,
    );
  }
  if (datasetClasses.every((c, i) => modelClasses[i] === c)) return labels;
  const remapped = tf.tidy(() =>
    tf.gather(
      tf.tensor1d(
        Int32Array.from(datasetClasses, (c) => modelClasses.indexOf(c)),
        'int32',
      ),
      tf.tensor1d(labels, 'int32'),
    ),
  );
  const out = remapped.dataSync() as Int32Array;
  remapped.dispose();
  return out;
}

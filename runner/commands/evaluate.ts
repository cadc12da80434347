import { parseCommandArgs } from '../cli-args.ts';
import { parseSetOption } from '../config/load.ts';
import { selectBackend } from '../backend/select.ts';
import { UserError } from '../errors.ts';
import { Progress } from '../progress.ts';
import { evaluateRun, type EvaluationSplit } from '../run/evaluate-run.ts';
import type { ClassificationReport } from '../train/report.ts';
import type { Command } from './command.ts';
import { printJson, wantsJson, withJsonErrors } from './json-output.ts';
import { device, positiveInteger } from './predict.ts';

/** `runner evaluate`: scores a trained run's model on a dataset split. */
export const command: Command = {
  help: `Usage: runner evaluate <run-folder> [--set data.dataset...=value]... [--split test] [options]

Loads the run's model and input preparation from the run folder (as runner predict does), reads the
run's dataset (or another: --set changes the run's config, e.g. --set data.dataset.path=data/other)
and scores the split: loss, accuracy, per-class precision/recall/F1, macro-F1 and the confusion matrix.
The dataset's classes are matched to the model's by name; a class the model does not know is an error.
Writes <run-folder>/evaluations/<id>/ (evaluation.json, confusion_matrix.json, confusion_matrix.png)
and, when the run's config tracks (tracking: is not false), an MLflow run in the run's experiment tagged
runner.evaluated_run_id with the training run's MLflow run id, with the dataset as its input.

Options:
  --set <path=value>   Change the run's config before loading data (repeatable; relative paths from here)
  --split <name>       test (default), validation (the run's data.validation hold-out, or the dataset's own) or train
  --out <dir>          Where the evaluation folder goes (default: <run-folder>/evaluations/<id>)
  --batch-size <n>     Examples per model call (default: data.eval_batch_size, else 256)
  --device <d>         auto, cpu or gpu (default: cpu)
  --json               One JSON document on stdout: {status, run_folder, evaluation_folder, dataset, metrics,
                       report, mlflow_run_id, mlflow_run_url, evaluated_mlflow_run_id}
  --quiet              Only warnings and errors
  --debug              Show stack traces of errors

Exit codes: 0 done, 2 bad input (the run folder, the dataset, the command line).

Example: runner evaluate runs/quickstart/20261201-101502-3fa9c2 --set data.dataset.path=data/new-reviews`,
  async run(argv) {
    const json = wantsJson(argv);
    return withJsonErrors(json, async () => {
      const { values, positionals } = parseCommandArgs('evaluate', argv, {
        set: { type: 'string', multiple: true },
        split: { type: 'string' },
        out: { type: 'string' },
        'batch-size': { type: 'string' },
        device: { type: 'string' },
        json: { type: 'boolean' },
        quiet: { type: 'boolean' },
      });
      if (positionals.length !== 1)
        throw new UserError(`runner evaluate takes one run folder, got ${positionals.length}. See 'runner evaluate --help'.`);
      const split = values.split ?? 'test';
      if (split !== 'test' && split !== 'validation' && split !== 'train')
        throw new UserError(`--split ${split}: expected test, validation or train.`);
      const progress = new Progress(process.stderr, { quiet: values.quiet ?? false });
      await selectBackend(device(values.device), { warn: (m) => progress.warn(m) });
      const outcome = await evaluateRun({
        runDir: positionals[0]!,
        overrides: (values.set ?? []).map(parseSetOption),
        split: split as EvaluationSplit,
        outDir: values.out,
        batchSize: values['batch-size'] === undefined ? undefined : positiveInteger(values['batch-size'], '--batch-size'),
        progress,
      });
      if (json) {
        printJson({
          status: 'ok',
          run_folder: outcome.runFolder,
          evaluation_folder: outcome.dir,
          dataset: outcome.dataset,
          metrics: outcome.metrics,
          report: outcome.report,
          mlflow_run_id: outcome.mlflowRunId ?? null,
          mlflow_run_url: outcome.mlflowRunUrl ?? null,
          evaluated_mlflow_run_id: outcome.evaluatedMlflowRunId ?? null,
        });
      } else {
        const m = outcome.metrics;
        progress.info(`accuracy ${m.accuracy!.toFixed(4)}, macro-F1 ${m.macro_f1!.toFixed(4)}, loss ${m.loss!.toFixed(4)}; ${outcome.dir}`);
        process.stdout.write(reportTable(outcome.report) + '\n');
      }
      return 0;
    });
  },
};

/** Per-class precision, recall, F1 and support, then accuracy and macro-F1, as a table. */
function reportTable(report: ClassificationReport): string {
  const width = Math.max(9, ...report.classes.map((c) => c.length));
  const rows = [`${'class'.padEnd(width)}  precision  recall  f1      support`];
  for (const name of report.classes) {
    const s = report.per_class[name]!;
    rows.push(`${name.padEnd(width)}  ${s.precision.toFixed(4).padEnd(9)}  ${s.recall.toFixed(4)}  ${s.f1.toFixed(4)}  ${s.support}`);
  }
  rows.push(`${'accuracy'.padEnd(width)}  ${report.accuracy.toFixed(4)}`, `${'macro-F1'.padEnd(width)}  ${report.macro_f1.toFixed(4)}`);
  return rows.join('\n');
}

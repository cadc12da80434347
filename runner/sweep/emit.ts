/** Job arrays that run a sweep on many machines: a Kubernetes Indexed Job and a Slurm array script. */
import { isAbsolute, relative, resolve } from 'node:path';
import { stringify } from 'yaml';
import { UserError } from '../errors.ts';
import type { SweepPlan } from './plan.ts';

/** Options of the emitted job. */
export interface EmitOptions {
  /** The config file as given on the command line (relative to `cwd`, or absolute). */
  configFile: string;
  /** The folder `--emit` ran in. */
  cwd: string;
  /** The project root here; in the image (or on the cluster) the job runs there, and every path is relative to it. */
  root: string;
  /** Where run folders go (Slurm: on the shared file system); relative to the root when inside it. */
  runsDir: string;
  /** The runner executable (bin/runner.js of the project). */
  bin: string;
  /** Container image (Kubernetes). */
  image?: string;
  /** The MLflow server every trial reports to; undefined when the config names one itself. */
  trackingUri?: string;
}

/** A placeholder the emitted files use when no MLflow server is known. */
export const TRACKING_PLACEHOLDER = 'http://mlflow:5000';
/** A placeholder image. */
export const IMAGE_PLACEHOLDER = 'registry.example.com/runner:latest';

/** Lines of advice on what the emitted job needs (printed on stderr, so stdout stays a clean file). */
export function emitWarnings(plan: SweepPlan, options: Pick<EmitOptions, 'image' | 'trackingUri'>, kind: 'k8s' | 'slurm'): string[] {
  const warnings: string[] = [];
  if (!plan.tracking.enabled) {
    warnings.push(
      'tracking is off: the trials get no MLflow parent run, and a rerun finds finished trials only in run folders on a shared file system.',
    );
  } else if (!plan.tracking.uri && !options.trackingUri) {
    warnings.push(
      `this config tracks to the local store, which other machines cannot reach: set MLFLOW_TRACKING_URI to a shared MLflow server before --emit (the file uses ${TRACKING_PLACEHOLDER} until then).`,
    );
  }
  if (kind === 'k8s' && !options.image)
    warnings.push(
      `no --image given: the manifest uses ${IMAGE_PLACEHOLDER}; pass --image with an image of this project (npm ci && npm run setup done, working directory = the project root).`,
    );
  return warnings;
}

/** A Kubernetes Indexed Job: `completions` = the number of trials, `parallelism` = max_parallel; each pod runs trial JOB_COMPLETION_INDEX. */
export function emitKubernetes(plan: SweepPlan, options: EmitOptions): string {
  const count = plan.trials.length;
  const parallel = Math.min(plan.sweep?.max_parallel ?? 1, count);
  const config = inProject(options, resolve(options.cwd, options.configFile), 'the config file');
  const bin = inProject(options, options.bin, 'the runner executable');
  const env =
    plan.tracking.enabled && !plan.tracking.uri
      ? [{ name: 'MLFLOW_TRACKING_URI', value: options.trackingUri ?? TRACKING_PLACEHOLDER }]
      : [];
  const labels = { 'app.kubernetes.io/name': 'runner', 'runner.dev/sweep': plan.hash.slice(0, 12) };
  const manifest = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: jobName(plan), labels },
    spec: {
      completionMode: 'Indexed',
      completions: count,
      parallelism: parallel,
      backoffLimit: plan.sweep?.fail_fast ? 0 : count,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'trial',
              image: options.image ?? IMAGE_PLACEHOLDER,
              command: ['node', bin, 'sweep', config], // relative to the image's working directory, the project root
              ...(env.length > 0 ? { env } : {}),
            },
          ],
        },
      },
    },
  };
  return (
    `# Kubernetes Indexed Job: sweep ${plan.hash.slice(0, 12)} of ${plan.name}, ${count} trials, ${parallel} at a time.\n` +
    `# Each pod runs \`runner sweep ${config}\`, which takes its trial from JOB_COMPLETION_INDEX (0 to ${count - 1}),\n` +
    `# finds or creates the sweep's parent run in MLflow (by the sweep hash) and nests its trial under it. A trial that\n` +
    `# already FINISHED is skipped, so running the Job again only redoes what did not finish.\n` +
    `# The image must hold this project (npm ci && npm run setup) with its working directory at the project root.\n` +
    `# Apply with: kubectl apply -f <this file>\n` +
    stringify(manifest, { lineWidth: 0, aliasDuplicateObjects: false })
  );
}

/** A Slurm array script: `--array=0-(N-1)%max_parallel`; each task runs trial SLURM_ARRAY_TASK_ID. */
export function emitSlurm(plan: SweepPlan, options: EmitOptions): string {
  const count = plan.trials.length;
  const parallel = Math.min(plan.sweep?.max_parallel ?? 1, count);
  const config = inProject(options, resolve(options.cwd, options.configFile), 'the config file');
  const bin = inProject(options, options.bin, 'the runner executable');
  const runsDir = displayPath(options.root, options.runsDir);
  const logDir = `${runsDir}/${plan.name}/sweeps/${plan.hash.slice(0, 12)}`;
  const lines = [
    '#!/bin/bash',
    `# Slurm array job: sweep ${plan.hash.slice(0, 12)} of ${plan.name}, ${count} trials, at most ${parallel} at a time.`,
    `# Each task runs \`runner sweep\` on trial SLURM_ARRAY_TASK_ID (0 to ${count - 1}); it finds or creates the sweep's`,
    '# parent run in MLflow (by the sweep hash) and nests its trial under it. Trials that already FINISHED are skipped,',
    '# so submitting again only redoes what did not finish. Submit from the project root (paths are relative to it)',
    '# on a file system the nodes share: sbatch <this file>',
    `#SBATCH --job-name=${jobName(plan)}`,
    `#SBATCH --array=0-${count - 1}%${parallel}`,
    `#SBATCH --output=${logDir}/slurm-%A_%a.log`,
    '#SBATCH --cpus-per-task=2',
    'set -euo pipefail',
    `mkdir -p ${shellQuote(logDir)}`,
    'cd "$SLURM_SUBMIT_DIR"',
  ];
  if (plan.tracking.enabled && !plan.tracking.uri) {
    lines.push(`export MLFLOW_TRACKING_URI="\${MLFLOW_TRACKING_URI:-${options.trackingUri ?? TRACKING_PLACEHOLDER}}"`);
  }
  if (plan.sweep?.fail_fast)
    lines.push('# fail_fast: Slurm arrays have no such setting; cancel the rest with: scancel "$SLURM_ARRAY_JOB_ID"');
  lines.push(`exec node ${shellQuote(bin)} sweep ${shellQuote(config)} --runs-dir ${shellQuote(runsDir)}`);
  return lines.join('\n') + '\n';
}

/** `runner-sweep-<name>-<hash>`, as a DNS-1123 label (Kubernetes object names, Slurm job names). */
export function jobName(plan: SweepPlan): string {
  const slug = plan.name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 35);
  return `runner-sweep-${slug ? `${slug}-` : ''}${plan.hash.slice(0, 8)}`.replace(/-+/g, '-');
}

/** A path of the project, relative to its root (the job runs there, on another machine); outside it, an error. */
function inProject(options: Pick<EmitOptions, 'root'>, path: string, what: string): string {
  const rel = relative(options.root, resolve(options.root, path));
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel))
    throw new UserError(
      `--emit: ${what} ${path} is outside the project ${options.root}; the job runs in a copy of the project (the image, or the cluster's checkout) and cannot reach it. Move it into the project.`,
    );
  return rel;
}

/** A path relative to `cwd` when it lies inside it, else absolute. */
export function displayPath(cwd: string, path: string): string {
  const absolute = resolve(cwd, path);
  const rel = relative(cwd, absolute);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : absolute;
}

function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

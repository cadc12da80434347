import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.ts';
import { cudaLibraryDirs, gpuModels, missingCudaLibraries, missingFromLibraryPath, nvidiaDriver } from './cuda.ts';
import { fixFor, loadAddon, locate, oneDnnEnabled, SETUP_COMMAND } from './native.ts';
import type { NativeLayout, NativePackage, NativeProblem } from './native.ts';
import { installFusedTrainingKernels } from './fused-training.ts';
import { patchTensorFlow221Kernels } from './tf221.ts';
import type { NativeBackend } from './tf221.ts';

/** Which device a run asks for: the fastest available, the CPU, or a GPU (an error if there is none). */
export type Device = 'auto' | 'cpu' | 'gpu';

/** What backend selection found, for logs and run metadata. */
export interface BackendReport {
  kind: 'native-gpu' | 'native-cpu' | 'pure-js';
  /** tf.getBackend(): 'tensorflow' for both native kinds, 'cpu' for pure JS. */
  tfBackend: string;
  /** The npm package that provides the backend. */
  package: string;
  /** TensorFlow C library version (native kinds). */
  tensorflowVersion?: string;
  /** Whether TensorFlow's oneDNN CPU kernels are on (native kinds). */
  oneDNN?: boolean;
  /** GPU models in use (native-gpu). */
  gpus?: string[];
  /** Why a faster backend was not used. */
  fallbackReason?: string;
  /** The command that fixes fallbackReason. */
  fix?: string;
  /** TensorFlow's intra-op threads when the runner chose them (SelectOptions.intraOpThreads). */
  intraOpThreads?: number;
}

/** Options of selectBackend. */
export interface SelectOptions {
  /** Where the pure-JS fallback warning goes (default: console.warn). */
  warn?: (message: string) => void;
  /** Folder the native packages are resolved from (default: this project's node_modules). */
  resolveFrom?: string;
  /**
   * TensorFlow intra-op threads for a CPU run (the model's preference): set as TF_NUM_INTRAOP_THREADS before TensorFlow
   * loads, unless the environment already sets it, TensorFlow is already loaded, or a GPU may be used.
   */
  intraOpThreads?: number;
}

const GPU: NativePackage = '@tensorflow/tfjs-node-gpu';
const CPU: NativePackage = '@tensorflow/tfjs-node';

let chosen: { device: Device; report: Promise<BackendReport> } | undefined;

/**
 * Loads the fastest backend the device allows (native GPU, native CPU, else pure JS with a loud
 * warning) and makes it tfjs's backend. A process picks its backend once: later calls return the
 * first report, and throw if they ask for what the first choice cannot give.
 */
export async function selectBackend(device: Device, options: SelectOptions = {}): Promise<BackendReport> {
  if (chosen === undefined) {
    const threads = chooseIntraOpThreads(device, options.intraOpThreads);
    const report = choose(device, options.warn ?? ((m) => console.warn(m)), options.resolveFrom).then((r) =>
      threads !== undefined && r.kind !== 'pure-js' ? { ...r, intraOpThreads: threads } : r,
    );
    chosen = { device, report };
    chosen.report.catch(() => {
      chosen = undefined;
    });
    return chosen.report;
  }
  const first = chosen;
  const report = await first.report;
  const conflict =
    (device === 'gpu' && report.kind !== 'native-gpu') || (device === 'cpu' && report.package === GPU && report.kind === 'native-gpu');
  if (conflict) {
    throw new Error(
      `selectBackend('${device}') after selectBackend('${first.device}') chose ${describeBackend(report)}: ` +
        'a process selects its backend once',
    );
  }
  if (tf.getBackend() !== report.tfBackend) await tf.setBackend(report.tfBackend); // switched since
  return report;
}

/** Sets TF_NUM_INTRAOP_THREADS to `wanted` for a CPU run when nothing has decided it yet; the number set, if any. */
function chooseIntraOpThreads(device: Device, wanted: number | undefined): number | undefined {
  if (wanted === undefined || (process.env.TF_NUM_INTRAOP_THREADS ?? '') !== '') return undefined;
  if (tf.findBackendFactory('tensorflow')) return undefined; // TensorFlow already runs with its pools
  if (device === 'gpu' || (device === 'auto' && nvidiaDriver() !== undefined)) return undefined;
  process.env.TF_NUM_INTRAOP_THREADS = String(wanted);
  return wanted;
}

/** One line for logs, e.g. "native CPU (@tensorflow/tfjs-node, TensorFlow 2.21.0, oneDNN on)". */
export function describeBackend(r: BackendReport): string {
  if (r.kind === 'pure-js') {
    return (
      `pure JS ('${r.tfBackend}' backend, about 100x slower than native)` +
      (r.fallbackReason ? `: ${r.fallbackReason}` : '') +
      (r.fix ? `; fix: ${r.fix}` : '')
    );
  }
  const parts = [r.package, `TensorFlow ${r.tensorflowVersion ?? '?'}`];
  if (r.gpus?.length) parts.push(`GPU: ${r.gpus.join(', ')}`);
  if (r.oneDNN !== undefined) parts.push(`oneDNN ${r.oneDNN ? 'on' : 'off'}`);
  if (r.intraOpThreads !== undefined)
    parts.push(`${r.intraOpThreads} intra-op thread${r.intraOpThreads === 1 ? '' : 's'} (the model's choice)`);
  const head = `native ${r.kind === 'native-gpu' ? 'GPU' : 'CPU'} (${parts.join(', ')})`;
  return head + (r.fallbackReason ? `; no GPU: ${r.fallbackReason}` + (r.fix ? ` (fix: ${r.fix})` : '') : '');
}

async function choose(device: Device, warn: (message: string) => void, from?: string): Promise<BackendReport> {
  // TensorFlow's INFO lines (CPU instruction notes) are noise next to the runner's own log.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '1';
  let gpuProblem: NativeProblem | undefined;
  if (device !== 'cpu') {
    const gpu = await tryGpu(device, from);
    if ('kind' in gpu) return gpu;
    gpuProblem = gpu.problem;
  }
  const cpu = locate(CPU, from);
  const cpuProblem = 'reason' in cpu ? cpu : loadAddon(cpu);
  if (cpuProblem === undefined) {
    const report = await importNative(cpu as NativeLayout);
    return gpuProblem ? { ...report, fallbackReason: gpuProblem.reason, fix: gpuProblem.fix } : report;
  }
  await tf.setBackend('cpu');
  await tf.ready();
  const report: BackendReport = {
    kind: 'pure-js',
    tfBackend: tf.getBackend(),
    package: '@tensorflow/tfjs',
    fallbackReason: cpuProblem.reason,
    fix: cpuProblem.fix,
  };
  warn(
    [
      '',
      "*** WARNING: TensorFlow's native backend did not load; training runs on the pure-JavaScript",
      '*** backend, about 100x slower.',
      `*** Why: ${cpuProblem.reason}`,
      `*** Fix: ${cpuProblem.fix}`,
      '',
    ].join('\n'),
  );
  return report;
}

/** Tries the GPU package: a report when it loaded (on a GPU, or on the CPU in auto mode), else why not. */
async function tryGpu(device: Device, from?: string): Promise<BackendReport | { problem: NativeProblem | undefined }> {
  const strict = device === 'gpu';
  const refuse = (p: NativeProblem): { problem: NativeProblem } => {
    if (strict)
      throw new UserError(`device: gpu was asked for, but no usable GPU was found: ${p.reason}. Fix: ${p.fix}, or use device: auto / cpu.`);
    return { problem: p };
  };
  const driver = nvidiaDriver();
  if (driver === undefined) {
    // The usual CPU-only machine: not worth a fallback note in auto mode.
    const p = {
      reason: 'no NVIDIA driver is loaded (no /proc/driver/nvidia/version)',
      fix: 'install an NVIDIA driver for CUDA 12 or newer',
    };
    return strict ? refuse(p) : { problem: undefined };
  }
  const gpu = locate(GPU, from);
  if ('reason' in gpu) return refuse(gpu);
  const dirs = cudaLibraryDirs(gpu.dir);
  const absent = missingCudaLibraries(dirs);
  if (absent.length > 0) {
    return refuse({
      reason: `the CUDA libraries are missing (${absent.join(', ')} not in ${gpu.dir}/deps/nvidia/*/lib)`,
      fix: fixFor(GPU),
    });
  }
  const missing = missingFromLibraryPath(dirs);
  if (missing.length > 0) {
    return refuse({
      reason:
        `the CUDA libraries are not on LD_LIBRARY_PATH (missing ${missing.length} folders, e.g. ${missing[0]}); ` +
        'TensorFlow opens them by name, so the path must be set before Node starts',
      fix: 'start the runner through bin/runner.js (npx runner / npm run runner), which sets it',
    });
  }
  const loadProblem = loadAddon(gpu);
  if (loadProblem) return refuse(loadProblem);
  const report = await importNative(gpu);
  if (report.kind === 'native-gpu') return report;
  const p = {
    reason: `TensorFlow found no usable GPU (driver: ${driver}); check nvidia-smi and that the driver supports CUDA 12`,
    fix: fixFor(GPU),
  };
  if (strict) return refuse(p);
  // The GPU package is loaded and cannot be swapped for the CPU one: it runs on the CPU too.
  return { ...report, fallbackReason: p.reason, fix: p.fix };
}

/** Imports a native package (its addon already loaded), applies the TF 2.21 fixes, reports. */
async function importNative(layout: NativeLayout): Promise<BackendReport> {
  await import(pathToFileURL(layout.entry).href);
  if (tf.getBackend() !== 'tensorflow') await tf.setBackend('tensorflow');
  patchTensorFlow221Kernels();
  installFusedTrainingKernels();
  const backend = tf.backend() as unknown as NativeBackend;
  const onGpu = backend.isUsingGpuDevice;
  return {
    kind: onGpu ? 'native-gpu' : 'native-cpu',
    tfBackend: tf.getBackend(),
    package: layout.pkg,
    tensorflowVersion: backend.binding.TF_Version,
    oneDNN: oneDnnEnabled(),
    ...(onGpu ? { gpus: gpuModels().length > 0 ? gpuModels() : ['GPU:0'] } : {}),
  };
}

export { SETUP_COMMAND };

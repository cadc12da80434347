/**
 * JS-side fixes for the two places where TensorFlow 2.21 (the C library this project builds the
 * tfjs-node addon against) differs from the 2.9.1 that @tensorflow/tfjs-node 4.22 was written for:
 *
 * - `Round` on int32 returns zeros in TF 2.21. Rounding an integer is the identity, so the
 *   'tensorflow' backend's Round kernel answers int32 inputs with TF's `Identity` op.
 * - `ConcatV2` rejects scalar inputs in TF 2.21 ("Can't concatenate scalars"); 2.9.1 took them as
 *   length-1 vectors, and tfjs-node relies on that (its TensorBoard histogram writer concatenates
 *   scalars when all values are equal). The Concat kernel reshapes scalar inputs to [1] first.
 *
 * tests/runner/backend/tf221.test.ts shows both differences on the raw ops, so a TensorFlow that
 * fixes them makes those tests fail and these patches can go.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';

/** One attribute of a TensorFlow op, as the tfjs-node binding takes it. */
export interface OpAttr {
  name: string;
  type: number;
  value: unknown;
}

/** The parts of tfjs-node's NodeJSKernelBackend the runner uses (it is not exported as a type). */
export interface NativeBackend {
  binding: {
    TF_Version: string;
    TF_INT32: number;
    TF_INT64: number;
    TF_FLOAT: number;
    TF_ATTR_TYPE: number;
    TF_ATTR_BOOL: number;
    TF_ATTR_FLOAT: number;
    TF_ATTR_STRING: number;
  };
  isUsingGpuDevice: boolean;
  isGPUPackage: boolean;
  executeSingleInput(name: string, input: TensorInfo): TensorInfo;
  executeSingleOutput(name: string, attrs: OpAttr[], inputs: TensorInfo[]): TensorInfo;
  /** Runs a TensorFlow op by name; its outputs are tf.Tensors tracked by the engine (the current tidy scope). */
  executeMultipleOutputs(name: string, attrs: OpAttr[], inputs: TensorInfo[], numOutputs: number): tf.Tensor[];
  disposeData(dataId: object, force?: boolean): boolean;
}

/** Whether the current backend runs TensorFlow ops by name (tfjs-node's 'tensorflow' backend, CPU or GPU). */
export function nativeOpsAvailable(): boolean {
  if (tf.getBackend() !== 'tensorflow') return false;
  return typeof (tf.backend() as Partial<NativeBackend>).executeMultipleOutputs === 'function';
}

const PATCHED = Symbol.for('runner.tf221-patched');
type Patched = KernelConfig & { [PATCHED]?: true };

/** Re-registers the 'tensorflow' backend's Round and Concat kernels with the TF 2.21 fixes (idempotent). */
export function patchTensorFlow221Kernels(): void {
  replaceKernel('Round', (original) => (args) => {
    const x = args.inputs.x as TensorInfo;
    if (x.dtype !== 'int32') return original(args);
    const backend = args.backend as NativeBackend;
    const t = { name: 'T', type: backend.binding.TF_ATTR_TYPE, value: backend.binding.TF_INT32 };
    return backend.executeSingleOutput('Identity', [t], [x]);
  });
  replaceKernel('Concat', (original) => (args) => {
    const inputs = Array.from(args.inputs as unknown as ArrayLike<TensorInfo>);
    if (!inputs.some((t) => t.shape.length === 0)) return original(args);
    const backend = args.backend as NativeBackend;
    const reshape = tf.getKernel('Reshape', 'tensorflow').kernelFunc;
    const temporary: TensorInfo[] = [];
    const vectors = inputs.map((t) => {
      if (t.shape.length > 0) return t;
      const v = reshape({ inputs: { x: t }, backend, attrs: { shape: [1] } }) as TensorInfo;
      temporary.push(v);
      return v;
    });
    try {
      return original({ ...args, inputs: vectors as unknown as NamedTensorInfoMap });
    } finally {
      for (const v of temporary) backend.disposeData(v.dataId);
    }
  });
}

type KernelArgs = { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap };
type Kernel = (args: KernelArgs) => TensorInfo | TensorInfo[];

/** Swaps a 'tensorflow' kernel for a wrapper of the original, once. */
function replaceKernel(name: string, wrap: (original: Kernel) => Kernel): void {
  const config = tf.getKernel(name, 'tensorflow') as Patched | undefined;
  if (config === undefined || config[PATCHED]) return;
  const original = config.kernelFunc as Kernel;
  tf.unregisterKernel(name, 'tensorflow');
  const patched: Patched = { ...config, kernelFunc: wrap(original) as KernelConfig['kernelFunc'], [PATCHED]: true };
  tf.registerKernel(patched);
}

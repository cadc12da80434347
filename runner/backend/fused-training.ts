/**
 * Training on tfjs-node's native backend with TensorFlow's own fused kernels where tfjs composes many
 * small ops (the same maths, far fewer kernel calls and passes over the activations):
 *
 * - BatchNormalization in training mode (4-D, channels last) runs FusedBatchNormV3 forward and
 *   FusedBatchNormGradV3 backward. tfjs-layers builds it from moments, a broadcasting batch norm and
 *   their gradients: ~25 kernels over the whole activation per layer and step. The moving statistics
 *   are updated exactly as tfjs-layers does (the biased batch variance, `momentum`).
 * - The 'relu6' activation runs TensorFlow's Relu6 (tfjs-layers composes minimum(6, relu(x))).
 * - The gradients of Relu and Relu6 run ReluGrad / Relu6Grad. tfjs computes them as dy × step(x), and
 *   tfjs-node's Step is itself six kernels (IsNan, Greater, Fill, Select, ...).
 *
 * Saved models are unchanged (the layers keep their class, config and weights); other backends and
 * other shapes take tfjs's own path. `RUNNER_FUSED_KERNELS=0` turns the fused path off.
 */
import * as tf from '@tensorflow/tfjs';
import { nativeOpsAvailable, type NativeBackend, type OpAttr } from './tf221.ts';

/** The parts of tfjs-layers' BatchNormalization the fused path reads. */
interface BatchNormLayer {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: tf.LayerVariable;
  beta: tf.LayerVariable;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[];
}

const INSTALLED = Symbol.for('runner.fused-training-installed');

/** Whether fused kernels may be used: not turned off with RUNNER_FUSED_KERNELS=0 (read at every call). */
export function fusedKernelsAllowed(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.RUNNER_FUSED_KERNELS !== '0';
}

/** Whether the fused TensorFlow kernels run now: the native backend is active and they were not turned off. */
export function fusedKernelsActive(env: NodeJS.ProcessEnv = process.env): boolean {
  return fusedKernelsAllowed(env) && nativeOpsAvailable();
}

/** Installs the fused batch norm and ReLU gradients (idempotent; each checks the backend at every call). */
export function installFusedTrainingKernels(): void {
  const registry = globalThis as { [INSTALLED]?: true };
  if (registry[INSTALLED]) return;
  registry[INSTALLED] = true;
  replaceReluGradient('Relu', 'ReluGrad');
  replaceReluGradient('Relu6', 'Relu6Grad');
  patchRelu6Activation();
  patchBatchNormalization();
}

/** tfjs-layers' 'relu6' activation is minimum(6, relu(x)) (four kernels forward and back); TensorFlow has Relu6 itself. */
function patchRelu6Activation(): void {
  const activation = (tf.layers.activation({ activation: 'relu6' }) as unknown as { activation: { apply(x: tf.Tensor): tf.Tensor } })
    .activation;
  const prototype = Object.getPrototypeOf(activation) as { apply(x: tf.Tensor): tf.Tensor };
  const original = prototype.apply;
  prototype.apply = function (x: tf.Tensor) {
    return fusedKernelsActive() && x.dtype === 'float32' ? tf.relu6(x) : original.call(this, x);
  };
}

/** Gives `kernel` (Relu, Relu6) a gradient computed by TensorFlow's `gradOp` on the native backend. */
function replaceReluGradient(kernel: 'Relu' | 'Relu6', gradOp: string): void {
  const original = tf.getGradient(kernel);
  if (!original) return;
  tf.registerGradient({
    ...original,
    gradFunc: (dy, saved, attrs) => {
      if (!fusedKernelsActive() || Array.isArray(dy) || dy.dtype !== 'float32') return original.gradFunc(dy, saved, attrs);
      const [x] = saved as [tf.Tensor];
      return { x: () => runOp(gradOp, [dy, x], 1, [dtypeAttr('T')])[0]! };
    },
  });
}

/** Routes BatchNormalization's training-mode call through fusedBatchNorm where it applies. */
function patchBatchNormalization(): void {
  const prototype = Object.getPrototypeOf(tf.layers.batchNormalization({})) as BatchNormLayer;
  const original = prototype.call;
  prototype.call = function (this: BatchNormLayer, inputs, kwargs) {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const channelsLast = x !== undefined && (this.axis === -1 || this.axis === x.rank - 1);
    const applies =
      kwargs?.training === true &&
      x?.rank === 4 &&
      x.dtype === 'float32' &&
      channelsLast &&
      this.center &&
      this.scale &&
      fusedKernelsActive();
    if (!applies || (Array.isArray(inputs) && inputs.length !== 1)) return original.call(this, inputs, kwargs);
    return tf.tidy(() => {
      const { y, mean, variance } = fusedBatchNorm(
        x as tf.Tensor4D,
        this.gamma.read() as tf.Tensor1D,
        this.beta.read() as tf.Tensor1D,
        this.epsilon,
      );
      movingAverage(this.movingMean, mean, this.momentum);
      movingAverage(this.movingVariance, variance, this.momentum);
      tf.dispose([mean, variance]);
      return y;
    });
  };
}

/** tfjs-layers' update of a moving statistic: `moving -= (moving - batch) × (1 - momentum)`. */
function movingAverage(variable: tf.LayerVariable, value: tf.Tensor, momentum: number): void {
  tf.tidy(() => {
    const current = variable.read();
    variable.write(tf.sub(current, tf.mul(tf.sub(current, value), 1 - momentum)));
  });
}

/**
 * Batch normalization over the batch and both spatial axes of NHWC `x` with the batch's own
 * statistics: `y` (differentiable in x, gamma and beta through FusedBatchNormGradV3), and the batch
 * mean and biased variance (for the moving statistics).
 */
export function fusedBatchNorm(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
): { y: tf.Tensor4D; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const attrs = () => [
    dtypeAttr('T'),
    dtypeAttr('U'),
    { name: 'epsilon', type: backend().binding.TF_ATTR_FLOAT, value: epsilon },
    { name: 'data_format', type: backend().binding.TF_ATTR_STRING, value: 'NHWC' },
    { name: 'is_training', type: backend().binding.TF_ATTR_BOOL, value: true },
  ];
  const [n, h, w] = x.shape;
  const count = n * h * w;
  let statistics: [tf.Tensor1D, tf.Tensor1D] | undefined;
  const normalize = tf.customGrad((input, scale, offset, save) => {
    const empty = tf.tensor1d([]);
    const [y, mean, unbiased, reserve1, reserve2, reserve3] = runOp(
      'FusedBatchNormV3',
      [input as tf.Tensor, scale as tf.Tensor, offset as tf.Tensor, empty, empty],
      6,
      [...attrs(), { name: 'exponential_avg_factor', type: backend().binding.TF_ATTR_FLOAT, value: 1 }],
    );
    // batch_variance has Bessel's correction; tfjs-layers (and so the runner) averages the biased one.
    const biased = tf.mul(unbiased!, count > 1 ? (count - 1) / count : 1) as tf.Tensor1D;
    statistics = [tf.keep(mean as tf.Tensor1D), tf.keep(biased)];
    (save as tf.GradSaveFunc)([input as tf.Tensor, scale as tf.Tensor, reserve1!, reserve2!, reserve3!]);
    return {
      value: y!,
      gradFunc: (dy, saved) => {
        const [dx, dScale, dOffset] = runOp('FusedBatchNormGradV3', [dy as tf.Tensor, ...saved], 5, attrs());
        return [dx!, dScale!, dOffset!];
      },
    };
  });
  const y = normalize(x, gamma, beta) as tf.Tensor4D;
  const [mean, variance] = statistics!;
  return { y, mean, variance };
}

function backend(): NativeBackend {
  return tf.backend() as unknown as NativeBackend;
}

function dtypeAttr(name: string): OpAttr {
  return { name, type: backend().binding.TF_ATTR_TYPE, value: backend().binding.TF_FLOAT };
}

/** Runs a TensorFlow op by name on the native backend; its outputs are tracked by the engine. */
function runOp(name: string, inputs: tf.Tensor[], outputs: number, attrs: OpAttr[]): tf.Tensor[] {
  return backend().executeMultipleOutputs(name, attrs, inputs, outputs);
}

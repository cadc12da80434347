/**
 * A bidirectional LSTM on TensorFlow's fused whole-sequence kernels, BlockLSTMV2 (forward) and
 * BlockLSTMGradV2 (backward), on tfjs-node's native backend, wrapped with tf.customGrad. One
 * kernel call runs a direction over every time step in C++, where the tfjs-layers LSTM dispatches
 * a dozen ops per step from JavaScript, forward and backward. On the CPU the two directions run at
 * once, as a TensorFlow graph (lstm-graph.ts); otherwise (GPU, or no graph) the kernels are
 * executed one after the other as eager ops by name.
 */
import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { nativeOpsAvailable, type NativeBackend } from '../../../runner/backend/tf221.ts';
import { graphBackward, graphForward, graphInference, layerGraphAvailable, type GraphWeights } from './lstm-graph.ts';
import type { BidirectionalWeights, LstmWeights } from './lstm-weights.ts';

/** The parts of tfjs-node's backend the block kernels need besides running ops: making an int64 scalar. */
interface BlockBackend extends NativeBackend {
  binding: NativeBackend['binding'] & { createTensor(shape: number[], dtype: number, values: Int32Array): number };
  tensorMap: { set(dataId: object, data: { shape: number[]; dtype: number; id: number; values: null; refCount: number }): void };
}

/** Whether the current backend can run TensorFlow ops by name (tfjs-node's 'tensorflow' backend). */
export function nativeLstmAvailable(): boolean {
  return nativeOpsAvailable() && typeof (tf.backend() as Partial<BlockBackend>).binding?.createTensor === 'function';
}

/** BlockLSTMV2's seven outputs, each `[time, batch, units]`, in the kernel's order. */
type BlockOutputs = [i: tf.Tensor3D, cs: tf.Tensor3D, f: tf.Tensor3D, o: tf.Tensor3D, ci: tf.Tensor3D, co: tf.Tensor3D, h: tf.Tensor3D];

/** How nativeBidirectionalLstm runs the kernels: 'auto' (the graph where available), 'graph' or 'eager'. */
export type NativeMode = 'auto' | 'graph' | 'eager';

/** Options of nativeBidirectionalLstm. */
export interface NativeOptions {
  mode?: NativeMode;
  /** When no gradient is recorded, the bytes the kernels' outputs may take at once (default INFERENCE_BYTES). */
  inferenceBytes?: number;
}

/**
 * `[batch, time, 2 * units]`: the forward LSTM's outputs at each step concatenated with the
 * backward LSTM's (which read the sequence from its end), from zero states, as
 * tf.layers.bidirectional(tf.layers.lstm({returnSequences: true, recurrentActivation: 'sigmoid'})).
 * Differentiable in `x` and every weight. Needs nativeLstmAvailable() (and layerGraphAvailable()
 * for mode 'graph').
 */
export function nativeBidirectionalLstm(x: tf.Tensor3D, weights: BidirectionalWeights, options: NativeOptions = {}): tf.Tensor3D {
  const mode = options.mode ?? 'auto';
  const [batch, time, inputSize] = x.shape;
  const units = weights.forward.recurrentKernel.shape[0];
  if (batch % 2 === 1 && (inputSize % 2 === 1 || units % 2 === 1)) {
    // BlockLSTM logs "inefficient" on every call when batch × input or batch × units is odd: one
    // zero example more (its outputs cut off, so it adds nothing to any gradient) avoids both.
    return tf.tidy(() => {
      const padded = nativeBidirectionalLstm(
        tf.pad(x, [
          [0, 1],
          [0, 0],
          [0, 0],
        ]),
        weights,
        options,
      );
      return tf.slice(padded, [0, 0, 0], [batch, time, 2 * units]);
    });
  }
  const graph = mode === 'graph' || (mode === 'auto' && layerGraphAvailable());
  if (!tf.engine().isTapeOn()) return inference(x, weights, graph, options.inferenceBytes ?? INFERENCE_BYTES);
  const { forward: fw, backward: bw } = weights;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[7] as tf.GradSaveFunc;
    const [input, ...w] = args.slice(0, 7) as [tf.Tensor3D, ...tf.Tensor[]];
    const f = toBlockLayout(unpack(w, 0));
    const b = toBlockLayout(unpack(w, 3));
    const blockWeights: GraphWeights = { wF: f.w, bF: f.b, wB: b.w, bB: b.b };
    const { y, saved } = (graph ? graphForward : eagerForward)(input, blockWeights);
    save([input, f.w, f.b, b.w, b.b, ...saved]);
    const gradFunc = (dy: tf.Tensor3D, kept: tf.Tensor[]): tf.Tensor[] =>
      tf.tidy(() => {
        const [sx, wF, bF, wB, bB, ...outputs] = kept as [tf.Tensor3D, tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.Tensor1D, ...tf.Tensor[]];
        const g = (graph ? graphBackward : eagerBackward)(sx, { wF, bF, wB, bB }, outputs, dy);
        const kF = fromBlockLayout(g.wF, g.bF, inputSize);
        const kB = fromBlockLayout(g.wB, g.bB, inputSize);
        return [g.dx, kF.kernel, kF.recurrentKernel, kF.bias, kB.kernel, kB.recurrentKernel, kB.bias];
      });
    return { value: y, gradFunc };
  });
  return op(x, fw.kernel, fw.recurrentKernel, fw.bias, bw.kernel, bw.recurrentKernel, bw.bias) as tf.Tensor3D;
}

/**
 * Bytes the kernels' outputs may take at once when nothing is recorded for gradients: BlockLSTMV2
 * writes seven `[time, batch, units]` outputs per direction, 1.1 GB for an evaluation batch of 256
 * × 500 steps × 100 units; larger batches are run in chunks.
 */
const INFERENCE_BYTES = 384 * 2 ** 20;

/** The layer's output when no gradient is recorded: `y` only, the batch in chunks that bound memory. */
function inference(x: tf.Tensor3D, weights: BidirectionalWeights, graph: boolean, bytes: number): tf.Tensor3D {
  const [batch, time] = x.shape;
  const units = weights.forward.recurrentKernel.shape[0];
  const fit = Math.max(2, Math.floor(bytes / (7 * 2 * time * units * 4)));
  const chunks = Math.ceil(batch / fit);
  const size = 2 * Math.ceil(batch / chunks / 2); // even: an even batch then never needs padding
  return tf.tidy(() => {
    const f = toBlockLayout(weights.forward);
    const b = toBlockLayout(weights.backward);
    const w: GraphWeights = { wF: f.w, bF: f.b, wB: b.w, bB: b.b };
    const run = (part: tf.Tensor3D) => (graph ? graphInference(part, w) : tf.tidy(() => eagerForward(part, w).y));
    if (chunks === 1) return run(x);
    const sizes = Array.from({ length: chunks }, (_, i) => Math.min(size, batch - i * size)).filter((n) => n > 0);
    return tf.concat((tf.split(x, sizes, 0) as tf.Tensor3D[]).map(run), 0);
  });
}

/** The forward pass as eager ops: the directions' kernels one after the other. */
function eagerForward(x: tf.Tensor3D, w: GraphWeights): { y: tf.Tensor3D; saved: tf.Tensor[] } {
  return tf.tidy(() => {
    const xt = tf.transpose(x, [1, 0, 2]) as tf.Tensor3D;
    const outF = blockLstm(xt, w.wF, w.bF);
    const outB = blockLstm(tf.reverse(xt, 0), w.wB, w.bB);
    const y = tf.transpose(tf.concat([outF[6], tf.reverse(outB[6], 0)], 2), [1, 0, 2]) as tf.Tensor3D;
    return { y, saved: [...outF.slice(0, 5), ...outB.slice(0, 5)] }; // co and h are recomputed (memory)
  });
}

/** The backward pass as eager ops, from eagerForward's `saved`. */
function eagerBackward(x: tf.Tensor3D, w: GraphWeights, saved: tf.Tensor[], dy: tf.Tensor3D) {
  return tf.tidy(() => {
    const xt = tf.transpose(x, [1, 0, 2]) as tf.Tensor3D;
    const [dhF, dhBReversed] = tf.split(tf.transpose(dy, [1, 0, 2]), 2, 2) as [tf.Tensor3D, tf.Tensor3D];
    const outputs = (kept: tf.Tensor[]): BlockOutputs => {
      const [i, cs, f, o, ci] = kept as tf.Tensor3D[];
      const co = tf.tanh(cs!);
      return [i!, cs!, f!, o!, ci!, co, tf.mul(o!, co)];
    };
    const gF = blockLstmGrad(xt, w.wF, w.bF, outputs(saved.slice(0, 5)), dhF);
    const gB = blockLstmGrad(tf.reverse(xt, 0), w.wB, w.bB, outputs(saved.slice(5, 10)), tf.reverse(dhBReversed, 0));
    const dx = tf.transpose(tf.add(gF.x, tf.reverse(gB.x, 0)), [1, 0, 2]) as tf.Tensor3D;
    return { dx, wF: gF.w, bF: gF.b, wB: gB.w, bB: gB.b };
  });
}

/** BlockLSTMV2's `w` `[input + units, 4 * units]` and `b`; its gate layout is Keras' i,f,c,o. */
function toBlockLayout(w: LstmWeights): { w: tf.Tensor2D; b: tf.Tensor1D } {
  return { w: tf.concat([w.kernel, w.recurrentKernel], 0), b: w.bias };
}

/** Keras-layout gradients from BlockLSTMGradV2's `w` and `b` gradients. */
function fromBlockLayout(wGrad: tf.Tensor2D, bGrad: tf.Tensor1D, inputSize: number): LstmWeights {
  const [kernel, recurrentKernel] = tf.split(wGrad, [inputSize, wGrad.shape[0] - inputSize], 0) as [tf.Tensor2D, tf.Tensor2D];
  return { kernel, recurrentKernel, bias: bGrad };
}

function unpack(w: tf.Tensor[], at: number): LstmWeights {
  return { kernel: w[at] as tf.Tensor2D, recurrentKernel: w[at + 1] as tf.Tensor2D, bias: w[at + 2] as tf.Tensor1D };
}

/** BlockLSTMV2 over time-major `x` `[time, batch, input]` from zero states, no peepholes, no clipping. */
function blockLstm(x: tf.Tensor3D, w: tf.Tensor2D, b: tf.Tensor1D): BlockOutputs {
  const backend = tf.backend() as unknown as BlockBackend;
  const [time, batch] = x.shape;
  const units = b.shape[0] / 4;
  return tf.tidy(() => {
    const state = tf.zeros([batch, units]);
    const peephole = tf.zeros([units]);
    const attrs = [
      { name: 'cell_clip', type: backend.binding.TF_ATTR_FLOAT, value: 0 },
      { name: 'use_peephole', type: backend.binding.TF_ATTR_BOOL, value: false },
      { name: 'T', type: backend.binding.TF_ATTR_TYPE, value: backend.binding.TF_FLOAT },
    ];
    return withSequenceLength(backend, time, (seqLen) =>
      backend.executeMultipleOutputs('BlockLSTMV2', attrs, [seqLen, x, state, state, w, peephole, peephole, peephole, b], 7),
    ) as BlockOutputs;
  });
}

/** BlockLSTMGradV2 for the outputs of blockLstm, given the gradient of its `h` output. */
function blockLstmGrad(
  x: tf.Tensor3D,
  w: tf.Tensor2D,
  b: tf.Tensor1D,
  outputs: BlockOutputs,
  hGrad: tf.Tensor3D,
): { x: tf.Tensor3D; w: tf.Tensor2D; b: tf.Tensor1D } {
  const backend = tf.backend() as unknown as BlockBackend;
  const [time, batch] = x.shape;
  const units = b.shape[0] / 4;
  return tf.tidy(() => {
    const state = tf.zeros([batch, units]);
    const peephole = tf.zeros([units]);
    const csGrad = tf.zerosLike(hGrad); // only h feeds the loss: the cell states' own gradient is zero
    const attrs = [
      { name: 'use_peephole', type: backend.binding.TF_ATTR_BOOL, value: false },
      { name: 'T', type: backend.binding.TF_ATTR_TYPE, value: backend.binding.TF_FLOAT },
    ];
    const inputs = [x, state, state, w, peephole, peephole, peephole, b, ...outputs, csGrad, hGrad];
    const grads = withSequenceLength(backend, time, (seqLen) =>
      backend.executeMultipleOutputs('BlockLSTMGradV2', attrs, [seqLen, ...inputs], 8),
    );
    // x, cs_prev, h_prev, w, wci, wcf, wco, b
    return { x: grads[0] as tf.Tensor3D, w: grads[3] as tf.Tensor2D, b: grads[7] as tf.Tensor1D };
  });
}

/**
 * Runs `fn` with the kernels' int64 `seq_len_max` scalar (tfjs has no int64 tensors: it is made in
 * the binding and registered with the backend for the call only, then released).
 */
function withSequenceLength<T>(backend: BlockBackend, time: number, fn: (seqLen: TensorInfo) => T): T {
  const { binding } = backend;
  const dataId = {};
  const id = binding.createTensor([], binding.TF_INT64, new Int32Array([time, 0])); // little-endian int64
  backend.tensorMap.set(dataId, { shape: [], dtype: binding.TF_INT64, id, values: null, refCount: 1 });
  try {
    return fn({ dataId, shape: [], dtype: 'int32' });
  } finally {
    backend.disposeData(dataId, true);
  }
}

import * as tf from '@tensorflow/tfjs';
import { jsBidirectionalLstm } from './js-lstm.ts';
import type { BidirectionalWeights, LstmWeights } from './lstm-weights.ts';
import { layerGraphAvailable, layerGraphError } from './lstm-graph.ts';
import { nativeBidirectionalLstm, nativeLstmAvailable } from './native-lstm.ts';

/**
 * How the layer computes: 'graph' runs TensorFlow's fused BlockLSTM kernels as one TensorFlow
 * graph per call, both directions at once (tfjs-node on the CPU); 'eager' runs the same kernels
 * one after the other as ops by name (tfjs-node, CPU or GPU); 'js' fused tfjs ops (every
 * backend); 'auto' the first of these the backend can run.
 */
export type LstmImplementation = 'auto' | 'graph' | 'eager' | 'js';

/** Weight initializers the layer accepts, by tfjs name. */
export const LSTM_INITIALIZERS = {
  glorotUniform: () => tf.initializers.glorotUniform({}),
  glorotNormal: () => tf.initializers.glorotNormal({}),
  heUniform: () => tf.initializers.heUniform({}),
  heNormal: () => tf.initializers.heNormal({}),
  leCunUniform: () => tf.initializers.leCunUniform({}),
  leCunNormal: () => tf.initializers.leCunNormal({}),
  orthogonal: () => tf.initializers.orthogonal({}),
  zeros: () => tf.initializers.zeros(),
  ones: () => tf.initializers.ones(),
} as const;

/** The name of a weight initializer. */
export type LstmInitializer = keyof typeof LSTM_INITIALIZERS;

/** Settings of a FusedBidirectionalLSTM. */
export interface FusedBidirectionalLSTMArgs extends NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]> {
  /** Units per direction; the output has twice as many features. */
  units: number;
  /** Weights are named `<layer>/forward_<cellName>/kernel` etc., as tf.layers.bidirectional(tf.layers.lstm({name: cellName})) names them. */
  cellName?: string;
  /** cellName as saved models hold it (tfjs rewrites string values in saved configs, except `name`'s). */
  cell?: { name: string };
  kernelInitializer?: LstmInitializer;
  recurrentInitializer?: LstmInitializer;
  biasInitializer?: LstmInitializer;
  implementation?: LstmImplementation;
}

/**
 * A bidirectional LSTM over a whole `[batch, time, features]` sequence, returning every step's
 * outputs `[batch, time, 2 * units]` (forward ⧺ backward), from zero states. The maths and the
 * weights (names, shapes, order, gate layout i,f,c,o) are those of
 * tf.layers.bidirectional({layer: tf.layers.lstm({units, returnSequences: true,
 * recurrentActivation: 'sigmoid'}), mergeMode: 'concat'}), so weights move between the two with
 * getWeights/setWeights; it computes with far fewer op dispatches (see LstmImplementation).
 */
export class FusedBidirectionalLSTM extends tf.layers.Layer {
  static className = 'FusedBidirectionalLSTM';
  readonly units: number;
  readonly cellName: string;
  readonly kernelInitializer: LstmInitializer;
  readonly recurrentInitializer: LstmInitializer;
  readonly biasInitializer: LstmInitializer;
  /** How the next calls compute; may be changed between calls (the weights are the same). */
  implementation: LstmImplementation;
  private directions: { forward: tf.LayerVariable[]; backward: tf.LayerVariable[] } | undefined;

  constructor(args: FusedBidirectionalLSTMArgs) {
    super(args);
    if (!Number.isInteger(args.units) || args.units < 1)
      throw new Error(`FusedBidirectionalLSTM: units must be a positive integer, got ${args.units}`);
    this.units = args.units;
    this.cellName = args.cellName ?? args.cell?.name ?? 'lstm';
    this.kernelInitializer = args.kernelInitializer ?? 'glorotUniform';
    this.recurrentInitializer = args.recurrentInitializer ?? 'orthogonal';
    this.biasInitializer = args.biasInitializer ?? 'zeros';
    this.implementation = args.implementation ?? 'auto';
    for (const name of [this.kernelInitializer, this.recurrentInitializer, this.biasInitializer]) {
      if (!(name in LSTM_INITIALIZERS)) throw new Error(`FusedBidirectionalLSTM: unknown initializer '${name}'`);
    }
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const inputSize = shape[shape.length - 1];
    if (shape.length !== 3 || inputSize == null)
      throw new Error(`FusedBidirectionalLSTM expects [batch, time, features] input, got [${shape.join(', ')}]`);
    const direction = (prefix: string): tf.LayerVariable[] => [
      this.addWeight(
        `${prefix}_${this.cellName}/kernel`,
        [inputSize, 4 * this.units],
        'float32',
        LSTM_INITIALIZERS[this.kernelInitializer](),
      ),
      this.addWeight(
        `${prefix}_${this.cellName}/recurrent_kernel`,
        [this.units, 4 * this.units],
        'float32',
        LSTM_INITIALIZERS[this.recurrentInitializer](),
      ),
      this.addWeight(`${prefix}_${this.cellName}/bias`, [4 * this.units], 'float32', LSTM_INITIALIZERS[this.biasInitializer]()),
    ];
    this.directions = { forward: direction('forward'), backward: direction('backward') };
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [shape[0]!, shape[1]!, 2 * this.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
      if (this.directions === undefined) throw new Error('FusedBidirectionalLSTM called before it was built');
      const read = (vars: tf.LayerVariable[]): LstmWeights => {
        const [kernel, recurrentKernel, bias] = vars.map((v) => v.read());
        return { kernel: kernel as tf.Tensor2D, recurrentKernel: recurrentKernel as tf.Tensor2D, bias: bias as tf.Tensor1D };
      };
      const weights: BidirectionalWeights = { forward: read(this.directions.forward), backward: read(this.directions.backward) };
      const mode = this.mode();
      return mode === 'js' ? jsBidirectionalLstm(x, weights) : nativeBidirectionalLstm(x, weights, { mode });
    });
  }

  /** What the next call runs: 'graph', 'eager' or 'js' (see LstmImplementation); throws if the backend cannot run what was asked for. */
  mode(): 'graph' | 'eager' | 'js' {
    const native = nativeLstmAvailable();
    const graph = native && layerGraphAvailable();
    if (this.implementation === 'auto') return graph ? 'graph' : native ? 'eager' : 'js';
    if (this.implementation === 'js') return 'js';
    if (!native) {
      throw new Error(
        `FusedBidirectionalLSTM '${this.name}': implementation '${this.implementation}' needs tfjs-node's 'tensorflow' backend, the backend is '${tf.getBackend()}'`,
      );
    }
    if (this.implementation === 'graph' && !graph) {
      const why = layerGraphError()?.message ?? 'it runs on the CPU only';
      throw new Error(`FusedBidirectionalLSTM '${this.name}': implementation 'graph' is not available: ${why}`);
    }
    return this.implementation;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      units: this.units,
      cell: { name: this.cellName },
      kernelInitializer: this.kernelInitializer,
      recurrentInitializer: this.recurrentInitializer,
      biasInitializer: this.biasInitializer,
      implementation: this.implementation,
    };
  }
}
tf.serialization.registerClass(FusedBidirectionalLSTM);

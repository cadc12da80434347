/**
 * A TensorFlow graph for one bidirectional LSTM layer, run as a session through tfjs-node's
 * SavedModel support, so that TensorFlow's executor runs the two directions' BlockLSTMV2 (and,
 * backward, BlockLSTMGradV2) kernels at the same time on different cores. Eager ops, which tfjs
 * can only dispatch one after the other, leave the cores waiting on each other at every time step.
 *
 * The graph is written here as a binary GraphDef inside a SavedModel (a few dozen lines of
 * protobuf encoding: no Python, no TensorFlow tooling), once per process, to a temporary folder.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

/** A minimal protocol-buffers encoder: the wire format of the few messages written here. */
class ProtoWriter {
  readonly bytes: number[] = [];

  private varint(value: number): this {
    let v = BigInt.asUintN(64, BigInt(value));
    do {
      const low = Number(v & 0x7fn);
      v >>= 7n;
      this.bytes.push(v ? low | 0x80 : low);
    } while (v);
    return this;
  }

  private key(field: number, wireType: 0 | 2 | 5): this {
    return this.varint(field * 8 + wireType);
  }

  int(field: number, value: number): this {
    return this.key(field, 0).varint(value);
  }

  float(field: number, value: number): this {
    const b = Buffer.alloc(4);
    b.writeFloatLE(value);
    this.key(field, 5).bytes.push(...b);
    return this;
  }

  raw(field: number, data: ArrayLike<number>): this {
    this.key(field, 2).varint(data.length);
    for (let i = 0; i < data.length; i++) this.bytes.push(data[i]!);
    return this;
  }

  string(field: number, value: string): this {
    return this.raw(field, Buffer.from(value, 'utf8'));
  }

  /** A packed repeated varint field (int32s, int64s). */
  packed(field: number, values: number[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(v);
    return this.raw(field, inner.bytes);
  }

  message(field: number, write: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    write(inner);
    return this.raw(field, inner.bytes);
  }
}

const DT_FLOAT = 1;
const DT_INT32 = 3;
const DT_INT64 = 9;

/** An attribute value (tensorflow/core/framework/attr_value.proto); `int32s` is an int32 tensor, a scalar when `scalar`. */
type Attr = { type: number } | { i: number } | { f: number } | { b: boolean } | { anyShape: true } | { int32s: number[]; scalar?: boolean };

function writeAttr(w: ProtoWriter, a: Attr): void {
  if ('type' in a) w.int(6, a.type);
  else if ('i' in a) w.int(3, a.i);
  else if ('f' in a) w.float(4, a.f);
  else if ('b' in a) w.int(5, a.b ? 1 : 0);
  else if ('anyShape' in a)
    w.message(7, (shape) => shape.int(3, 1)); // unknown_rank
  else
    w.message(8, (t) => {
      t.int(1, DT_INT32);
      t.message(2, (shape) => {
        if (!a.scalar) shape.message(2, (dim) => dim.int(1, a.int32s.length));
      });
      t.packed(7, a.int32s); // int_val
    });
}

/** A graph node (tensorflow/core/framework/node_def.proto). */
interface Node {
  name: string;
  op: string;
  inputs?: string[];
  attrs?: Record<string, Attr>;
}

/** The SavedModel file (saved_model.pb) holding `nodes` as its one 'serve' graph. */
function savedModelBytes(nodes: Node[]): Uint8Array {
  const graph = new ProtoWriter();
  for (const node of nodes) {
    graph.message(1, (n) => {
      n.string(1, node.name).string(2, node.op);
      for (const input of node.inputs ?? []) n.string(3, input);
      for (const [name, value] of Object.entries(node.attrs ?? {}))
        n.message(5, (e) => e.string(1, name).message(2, (v) => writeAttr(v, value)));
    });
  }
  graph.message(4, (versions) => versions.int(1, 1000)); // producer
  const model = new ProtoWriter().int(1, 1); // saved_model_schema_version
  model.message(2, (meta) => meta.message(1, (info) => info.string(4, 'serve')).raw(2, graph.bytes));
  return Uint8Array.from(model.bytes);
}

const T = { T: { type: DT_FLOAT } };
const placeholder = (name: string): Node => ({ name, op: 'Placeholder', attrs: { dtype: { type: DT_FLOAT }, shape: { anyShape: true } } });
const int32s = (name: string, values: number[], scalar = false): Node => ({
  name,
  op: 'Const',
  attrs: { dtype: { type: DT_INT32 }, value: { int32s: values, scalar } },
});
const transpose = (name: string, input: string): Node => ({
  name,
  op: 'Transpose',
  inputs: [input, 'swap01'],
  attrs: { ...T, Tperm: { type: DT_INT32 } },
});
const reverseTime = (name: string, input: string): Node => ({
  name,
  op: 'ReverseV2',
  inputs: [input, 'axis0'],
  attrs: { ...T, Tidx: { type: DT_INT32 } },
});
/** The BlockLSTMV2 outputs the backward pass is fed: i, cs, f, o, ci (not co and h: recomputed). */
const kept = (node: string) => Array.from({ length: 5 }, (_, i) => `${node}:${i}`);

/**
 * The layer's graph. Feeds: x `[batch, time, input]`; w_f, b_f, w_b, b_b (BlockLSTMV2's `w`
 * `[input + units, 4 units]` and `b` per direction); zeros `state` `[batch, units]` and `peephole`
 * `[units]`; for the backward pass also dy `[batch, time, 2 units]` and the forward kernels'
 * outputs i, cs, f, o, ci (fed in place of fw:i, bw:i, so those kernels do not run again).
 */
const LAYER_GRAPH: Node[] = [
  ...['x', 'w_f', 'b_f', 'w_b', 'b_b', 'state', 'peephole', 'dy'].map(placeholder),
  int32s('swap01', [1, 0, 2]),
  int32s('axis0', [0]),
  int32s('zero', [0]),
  int32s('one', [1]),
  int32s('axis2', [2], true),
  transpose('xt', 'x'),
  reverseTime('xr', 'xt'),
  { name: 'shape', op: 'Shape', inputs: ['xt'], attrs: { ...T, out_type: { type: DT_INT32 } } },
  {
    name: 'time',
    op: 'StridedSlice',
    inputs: ['shape', 'zero', 'one', 'one'],
    attrs: {
      T: { type: DT_INT32 },
      Index: { type: DT_INT32 },
      ...Object.fromEntries(['begin_mask', 'end_mask', 'ellipsis_mask', 'new_axis_mask'].map((m) => [m, { i: 0 }])),
      shrink_axis_mask: { i: 1 },
    },
  },
  { name: 'seq_len', op: 'Cast', inputs: ['time'], attrs: { SrcT: { type: DT_INT32 }, DstT: { type: DT_INT64 }, Truncate: { b: false } } },
  ...(['f', 'b'] as const).map((d) => ({
    name: `${d}w`,
    op: 'BlockLSTMV2',
    inputs: ['seq_len', d === 'f' ? 'xt' : 'xr', 'state', 'state', `w_${d}`, 'peephole', 'peephole', 'peephole', `b_${d}`],
    attrs: { ...T, cell_clip: { f: 0 }, use_peephole: { b: false } },
  })),
  reverseTime('bw_h', 'bw:6'),
  { name: 'y_t', op: 'ConcatV2', inputs: ['fw:6', 'bw_h', 'axis2'], attrs: { ...T, N: { i: 2 }, Tidx: { type: DT_INT32 } } },
  transpose('y', 'y_t'),
  // backward
  transpose('dy_t', 'dy'),
  { name: 'dh', op: 'Split', inputs: ['axis2', 'dy_t'], attrs: { ...T, num_split: { i: 2 } } },
  reverseTime('dh_b', 'dh:1'),
  { name: 'cs_grad', op: 'ZerosLike', inputs: ['dh:0'], attrs: T }, // only h feeds the loss
  // co = tanh(cs) and h = o·co again, rather than keeping them from the forward pass (memory)
  ...(['f', 'b'] as const).flatMap((d): Node[] => [
    { name: `${d}w_co_again`, op: 'Tanh', inputs: [`${d}w:1`], attrs: T },
    { name: `${d}w_h_again`, op: 'Mul', inputs: [`${d}w:3`, `${d}w_co_again`], attrs: T },
  ]),
  ...(['f', 'b'] as const).map((d) => ({
    name: `grad_${d}`,
    op: 'BlockLSTMGradV2',
    inputs: [
      'seq_len',
      d === 'f' ? 'xt' : 'xr',
      'state',
      'state',
      `w_${d}`,
      'peephole',
      'peephole',
      'peephole',
      `b_${d}`,
      ...kept(`${d}w`),
      `${d}w_co_again`,
      `${d}w_h_again`,
      'cs_grad',
      d === 'f' ? 'dh:0' : 'dh_b',
    ],
    attrs: { ...T, use_peephole: { b: false } },
  })),
  reverseTime('dx_b', 'grad_b:0'),
  { name: 'dx_t', op: 'AddV2', inputs: ['grad_f:0', 'dx_b'], attrs: T },
  transpose('dx', 'dx_t'),
];

const FEEDS = ['x', 'w_f', 'b_f', 'w_b', 'b_b', 'state', 'peephole'];
const SAVED = [...kept('fw'), ...kept('bw')];

/** The parts of tfjs-node's backend that run SavedModel sessions. */
interface SessionBackend {
  isUsingGpuDevice: boolean;
  loadSavedModelMetaGraph(path: string, tags: string): number;
  runSavedModel(id: number, inputs: tf.Tensor[], inputInfos: Array<{ name: string; tfDtype: string }>, outputNames: string[]): tf.Tensor[];
}

const sessions = new WeakMap<object, number | Error>();

/**
 * The layer graph's session on the current backend (loaded once per backend), or undefined
 * where it does not apply: on a GPU (feeding a session copies tensors to the host and back;
 * the eager kernels stay on the device) or where loading failed (the error is kept).
 */
function layerSession(): { backend: SessionBackend; id: number } | undefined {
  const backend = tf.backend() as unknown as Partial<SessionBackend>;
  if (typeof backend.loadSavedModelMetaGraph !== 'function' || typeof backend.runSavedModel !== 'function' || backend.isUsingGpuDevice) {
    return undefined;
  }
  let id = sessions.get(backend);
  if (id === undefined) {
    try {
      id = backend.loadSavedModelMetaGraph(writeLayerGraph(), 'serve');
    } catch (error) {
      id = error instanceof Error ? error : new Error(String(error));
    }
    sessions.set(backend, id);
  }
  return typeof id === 'number' ? { backend: backend as SessionBackend, id } : undefined;
}

function requireSession(): { backend: SessionBackend; id: number } {
  const session = layerSession();
  if (session === undefined)
    throw new Error(
      `the bidirectional LSTM graph cannot run here: ${layerGraphError()?.message ?? "it needs tfjs-node's backend on the CPU"}`,
    );
  return session;
}

/** Why the layer graph is not used on this backend, if it failed to load. */
export function layerGraphError(): Error | undefined {
  const id = sessions.get(tf.backend());
  return id instanceof Error ? id : undefined;
}

/** Whether bidirectionalLstmGraph can run on the current backend (native CPU, graph loaded). */
export function layerGraphAvailable(): boolean {
  return layerSession() !== undefined;
}

/** Writes the SavedModel once (named by its content, so concurrent processes agree); returns its folder. */
function writeLayerGraph(): string {
  const bytes = savedModelBytes(LAYER_GRAPH);
  const dir = join(tmpdir(), `runner-bilstm-graph-${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}`);
  const file = join(dir, 'saved_model.pb');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, bytes);
    renameSync(partial, file);
  }
  return dir;
}

const infos = (names: string[]) => names.map((name) => ({ name: name.includes(':') ? name : `${name}:0`, tfDtype: 'DT_FLOAT' }));

/** BlockLSTMV2 weights and zero states of both directions, as the graph is fed them. */
export interface GraphWeights {
  wF: tf.Tensor2D;
  bF: tf.Tensor1D;
  wB: tf.Tensor2D;
  bB: tf.Tensor1D;
}

/**
 * Forward pass: `y` `[batch, time, 2 units]` and the ten kernel outputs the backward pass needs
 * (i, cs, f, o, ci of each direction). Needs layerGraphAvailable().
 */
export function graphForward(x: tf.Tensor3D, w: GraphWeights): { y: tf.Tensor3D; saved: tf.Tensor[] } {
  const { backend, id } = requireSession();
  const [batch] = x.shape;
  const units = w.bF.shape[0] / 4;
  return tf.tidy(() => {
    const feeds = [x, w.wF, w.bF, w.wB, w.bB, tf.zeros([batch, units]), tf.zeros([units])];
    const [y, ...saved] = backend.runSavedModel(id, feeds, infos(FEEDS), ['y:0', ...SAVED]);
    return { y: y as tf.Tensor3D, saved };
  });
}

/** Forward pass for inference: `y` only (the kernels' other outputs are freed inside the run). */
export function graphInference(x: tf.Tensor3D, w: GraphWeights): tf.Tensor3D {
  const { backend, id } = requireSession();
  const [batch] = x.shape;
  const units = w.bF.shape[0] / 4;
  return tf.tidy(() => {
    const feeds = [x, w.wF, w.bF, w.wB, w.bB, tf.zeros([batch, units]), tf.zeros([units])];
    return backend.runSavedModel(id, feeds, infos(FEEDS), ['y:0'])[0] as tf.Tensor3D;
  });
}

/** Backward pass: gradients by x and by each direction's `w` and `b`, given dy and graphForward's `saved`. */
export function graphBackward(
  x: tf.Tensor3D,
  w: GraphWeights,
  saved: tf.Tensor[],
  dy: tf.Tensor3D,
): { dx: tf.Tensor3D; wF: tf.Tensor2D; bF: tf.Tensor1D; wB: tf.Tensor2D; bB: tf.Tensor1D } {
  const { backend, id } = requireSession();
  const [batch] = x.shape;
  const units = w.bF.shape[0] / 4;
  return tf.tidy(() => {
    const feeds = [x, w.wF, w.bF, w.wB, w.bB, tf.zeros([batch, units]), tf.zeros([units]), dy, ...saved];
    const [dx, wF, bF, wB, bB] = backend.runSavedModel(id, feeds, infos([...FEEDS, 'dy', ...SAVED]), [
      'dx:0',
      'grad_f:3',
      'grad_f:7',
      'grad_b:3',
      'grad_b:7',
    ]);
    return { dx: dx as tf.Tensor3D, wF: wF as tf.Tensor2D, bF: bF as tf.Tensor1D, wB: wB as tf.Tensor2D, bB: bB as tf.Tensor1D };
  });
}

// The runner's BiRNN vs PyTorch on the same CPU, in one run:
//   node --import tsx bench/lstm.ts [--rounds 5] [--steps 3] [--slow-steps 1] [--threads N] [--python .cache/bench-venv/bin/python]
// Needs the native backend (npm run setup:tensorflow) and PyTorch 2.13 in a venv:
//   python3 -m venv .cache/bench-venv && .cache/bench-venv/bin/pip install torch==2.13.0
// Model: d2l's BiRNN (components/model/birnn.ts): embedding 100 (20,000 words), 2 bidirectional
// LSTM layers of 100 units, first + last outputs, dense 2; batch 64 × 500 tokens; Adam, lr 0.001;
// cross-entropy. tfjs trains as the runner does (runner/train/loop.ts: tf.variableGrads over
// model.apply(x, {training: true}), then the runner's Adam); PyTorch is bench/lstm.py, a server this
// script drives, so the two take turns on the same cores: each round times `--steps` training
// steps of each, then as many forward passes (evaluation). Reports medians over rounds and the
// median of the per-round ratios, the peak RSS of each process, and, once, the slower variants
// (birnn's fused layer on tfjs ops instead of the native kernels, and tfjs-layers' LSTM).
// --threads N sets both frameworks' intra-op threads (TF_NUM_INTRAOP_THREADS, OMP_NUM_THREADS);
// by default each uses its own default (one thread per core).
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { adam } from '../components/optimizer/adam.ts';
import { birnn } from '../components/model/birnn.ts';
import { FusedBidirectionalLSTM, type LstmImplementation } from '../components/model/layers/fused-lstm.ts';
import { describeBackend, selectBackend } from '../runner/backend/select.ts';
import { GroupedOptimizer } from '../runner/train/optimizer.ts';
import { resolveParamGroups } from '../runner/train/param-groups.ts';

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    steps: { type: 'string', default: '3' },
    'slow-steps': { type: 'string', default: '1' },
    python: { type: 'string', default: '.cache/bench-venv/bin/python' },
    threads: { type: 'string' },
  },
});
if (opts.threads !== undefined) {
  // Both frameworks' intra-op thread pools (read when TensorFlow and PyTorch start).
  process.env.TF_NUM_INTRAOP_THREADS = opts.threads;
  process.env.OMP_NUM_THREADS = opts.threads;
}
const ROUNDS = Number(opts.rounds);
const STEPS = Number(opts.steps);
const SLOW_STEPS = Number(opts['slow-steps']);
const BATCH = 64,
  SEQ = 500,
  EMBED = 100,
  HIDDENS = 100,
  LAYERS = 2,
  VOCAB = 20_000,
  LR = 0.001;

/** The PyTorch server: one command line in, one JSON line out. */
class Torch {
  private readonly child = spawn(opts.python!, [new URL('./lstm.py', import.meta.url).pathname], { stdio: ['pipe', 'pipe', 'inherit'] });
  private readonly lines = createInterface({ input: this.child.stdout! })[Symbol.asyncIterator]();

  async ask(command: string): Promise<Record<string, number | string>> {
    this.child.stdin!.write(command + '\n');
    const next = await this.lines.next();
    if (next.done) throw new Error(`PyTorch server (${opts.python}) exited; is torch installed there?`);
    return JSON.parse(next.value) as Record<string, number | string>;
  }

  close(): void {
    this.child.stdin!.end();
  }
}

/** The runner's training step (runner/train/loop.ts): loss and gradients, then the optimizer. */
function trainStep(model: tf.LayersModel, optimizer: GroupedOptimizer, x: tf.Tensor, y: tf.Tensor1D): number {
  const variables = optimizer.trainableVariables();
  const loss = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => {
      const logits = model.apply(x, { training: true }) as tf.Tensor2D;
      return tf.losses.softmaxCrossEntropy(tf.oneHot(y, 2), logits);
    }, variables);
    optimizer.apply(grads);
    return value;
  });
  const value = loss.dataSync()[0]!;
  loss.dispose();
  return value;
}

/** An evaluation forward pass with the predictions read back. */
function evalStep(model: tf.LayersModel, x: tf.Tensor): void {
  tf.tidy(() => tf.argMax(model.apply(x, { training: false }) as tf.Tensor2D, 1).dataSync());
}

/** Seconds taken by `steps` calls of `fn`. */
function timed(steps: number, fn: () => void): number {
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) fn();
  return (performance.now() - t0) / 1000;
}

/** Peak resident memory of this process in MB (VmHWM), and its reset (Linux). */
function peakRssMb(): number {
  const kb = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return kb === undefined ? NaN : Number(kb) / 1024;
}
function resetPeakRss(): void {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // not Linux, or not allowed: the peak then includes what ran before
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** The runner's BiRNN on the benchmark shapes with the runner's Adam. */
function buildBirnn(implementation: 'fused' | 'layers'): { model: tf.LayersModel; optimizer: GroupedOptimizer } {
  const model = birnn.build(
    { embed_size: EMBED, num_hiddens: HIDDENS, num_layers: LAYERS, freeze_embedding: false, implementation },
    { numClasses: 2, inputShape: [SEQ], vocabSize: VOCAB },
  );
  const spec = adam.build(
    { lr: LR, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0, param_groups: [] },
    { configDir: '.', warn: () => {} },
  );
  const plan = resolveParamGroups(model, { lr: spec.lr, weightDecay: spec.weightDecay, groups: spec.paramGroups });
  return { model, optimizer: new GroupedOptimizer(spec.rule, plan.groups) };
}

/** Dispatches into TensorFlow `fn` makes: ops by name (executeSingleOutput/executeMultipleOutputs) and graph runs (runSavedModel). */
function countOps(fn: () => void): number {
  type Execute = (...args: unknown[]) => unknown;
  const methods = ['executeSingleOutput', 'executeMultipleOutputs', 'runSavedModel'] as const;
  const backend = tf.backend() as unknown as Record<(typeof methods)[number], Execute>;
  const originals = methods.map((m) => backend[m]);
  let count = 0;
  methods.forEach((m, i) => {
    backend[m] = (...args: unknown[]) => {
      count++;
      return originals[i]!.apply(backend, args);
    };
  });
  try {
    fn();
  } finally {
    methods.forEach((m) => delete (backend as Partial<typeof backend>)[m]); // the prototype's again
  }
  return count;
}

function setFusedImplementation(model: tf.LayersModel, implementation: LstmImplementation): void {
  for (const layer of model.layers) if (layer instanceof FusedBidirectionalLSTM) layer.implementation = implementation;
}

async function main(): Promise<void> {
  const report = await selectBackend('cpu');
  if (report.kind === 'pure-js') throw new Error(`the native backend did not load: ${describeBackend(report)}`);
  const torch = new Torch();
  const info = await torch.ask(`setup ${BATCH} ${SEQ} ${EMBED} ${HIDDENS} ${LAYERS} ${VOCAB} ${LR}`);
  console.log(
    `backend: ${describeBackend(report)}; tfjs ${tf.version.tfjs}; PyTorch ${info.torch} (${info.threads} threads); ${availableParallelism()} cores`,
  );
  console.log(
    `BiRNN: batch ${BATCH} x ${SEQ} tokens, embed ${EMBED}, vocabulary ${VOCAB}, ${LAYERS} bidirectional LSTM layers of ${HIDDENS}, Adam`,
  );

  const x = tf.randomUniform([BATCH, SEQ], 0, VOCAB, 'int32', 1);
  const y = tf.randomUniform([BATCH], 0, 2, 'int32', 2) as tf.Tensor1D;
  const fused = buildBirnn('fused');
  const variants = [
    {
      name: 'graph',
      implementation: 'graph',
      label: "birnn 'fused' (default): BlockLSTM kernels, a TensorFlow graph per layer, directions in parallel",
    },
    { name: 'eager', implementation: 'eager', label: "birnn 'fused', BlockLSTM kernels as eager ops, directions one after the other" },
  ] as const;
  resetPeakRss();
  for (const v of variants) {
    setFusedImplementation(fused.model, v.implementation);
    trainStep(fused.model, fused.optimizer, x, y); // warm-up
    evalStep(fused.model, x);
  }
  await torch.ask('train 1');
  await torch.ask('eval 1');

  type Series = Record<'graph' | 'eager' | 'torch', number[]>;
  const rows: Record<'train' | 'eval', Series> = {
    train: { graph: [], eager: [], torch: [] },
    eval: { graph: [], eager: [], torch: [] },
  };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const mode of ['train', 'eval'] as const) {
      const line: string[] = [];
      for (const v of variants) {
        setFusedImplementation(fused.model, v.implementation);
        const seconds = timed(STEPS, () => (mode === 'train' ? trainStep(fused.model, fused.optimizer, x, y) : evalStep(fused.model, x)));
        rows[mode][v.name].push((BATCH * STEPS) / seconds);
        line.push(`${v.name} ${((BATCH * STEPS) / seconds).toFixed(1)}`);
      }
      const torchSeconds = (await torch.ask(`${mode} ${STEPS}`)).seconds as number;
      rows[mode].torch.push((BATCH * STEPS) / torchSeconds);
      console.log(`round ${round} ${mode} (examples/s): ${line.join(', ')}, PyTorch ${((BATCH * STEPS) / torchSeconds).toFixed(1)}`);
    }
  }
  const tfjsPeak = peakRssMb();
  const torchPeak = (await torch.ask('rss')).max_rss_mb as number;
  torch.close();

  const dispatches: Array<{ label: string; ops: number; rate: number }> = [];
  for (const v of variants) {
    setFusedImplementation(fused.model, v.implementation);
    dispatches.push({
      label: v.label,
      ops: countOps(() => trainStep(fused.model, fused.optimizer, x, y)),
      rate: median(rows.train[v.name]),
    });
  }
  if (SLOW_STEPS > 0) {
    setFusedImplementation(fused.model, 'js');
    const ops = countOps(() => trainStep(fused.model, fused.optimizer, x, y)); // also the warm-up
    const rate = (BATCH * SLOW_STEPS) / timed(SLOW_STEPS, () => trainStep(fused.model, fused.optimizer, x, y));
    dispatches.push({ label: "birnn 'fused' on tfjs ops (the pure-JS fallback's code)", ops, rate });
    const layers = buildBirnn('layers');
    const layersOps = countOps(() => trainStep(layers.model, layers.optimizer, x, y));
    const layersRate = (BATCH * SLOW_STEPS) / timed(SLOW_STEPS, () => trainStep(layers.model, layers.optimizer, x, y));
    dispatches.push({ label: "birnn 'layers' (tfjs-layers bidirectional(lstm), the reference)", ops: layersOps, rate: layersRate });
  }

  const fmt = (v: number, digits = 1): string => v.toFixed(digits);
  const ratio = (a: number[], b: number[]) => {
    const r = a.map((v, i) => v / b[i]!);
    return `${fmt(median(r), 2)}× (${fmt(Math.min(...r), 2)}–${fmt(Math.max(...r), 2)})`;
  };
  console.log(`\nexamples/s, medians of ${ROUNDS} rounds of ${STEPS} steps each (after warm-up); ratios: median of the rounds' (range):\n`);
  console.log('| BiRNN, batch 64 × 500 | runner, graph (default) | runner, eager | PyTorch 2.13 | graph / PyTorch | eager / PyTorch |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const mode of ['train', 'eval'] as const) {
    const r = rows[mode];
    const name = mode === 'train' ? 'training step (forward, backward, Adam)' : 'forward only (evaluation)';
    console.log(
      `| ${name} | ${fmt(median(r.graph))} | ${fmt(median(r.eager))} | ${fmt(median(r.torch))} | ${ratio(r.graph, r.torch)} | ${ratio(r.eager, r.torch)} |`,
    );
  }
  console.log(`\npeak RSS: runner ${fmt(tfjsPeak, 0)} MB, PyTorch ${fmt(torchPeak, 0)} MB`);
  console.log(`\n| training step, native backend | dispatches into TensorFlow | examples/s |\n| --- | ---: | ---: |`);
  for (const d of dispatches) console.log(`| ${d.label} | ${d.ops} | ${fmt(d.rate, 2)} |`);
  if (SLOW_STEPS > 0) console.log(`(the last two: ${SLOW_STEPS} step after a warm-up step, after the rounds)`);
}

await main();

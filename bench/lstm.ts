// The runner's BiRNN vs PyTorch on the same CPU, in one run:
//   node --import tsx bench/lstm.ts [--rounds 5] [--steps 3] [--slow-steps 1] [--python .cache/bench-venv/bin/python]
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
  },
});
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

/** TensorFlow ops `fn` executes (calls into tfjs-node's binding: every op dispatch from JavaScript). */
function countOps(fn: () => void): number {
  const binding = (tf.backend() as unknown as { binding: { executeOp: (...args: unknown[]) => unknown } }).binding;
  const original = binding.executeOp;
  let count = 0;
  binding.executeOp = (...args: unknown[]) => {
    count++;
    return original.apply(binding, args);
  };
  try {
    fn();
  } finally {
    binding.executeOp = original;
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
  resetPeakRss();
  trainStep(fused.model, fused.optimizer, x, y); // warm-up
  evalStep(fused.model, x);
  await torch.ask('train 1');
  await torch.ask('eval 1');

  const rows = {
    train: { tfjs: [] as number[], torch: [] as number[], ratio: [] as number[] },
    eval: { tfjs: [] as number[], torch: [] as number[], ratio: [] as number[] },
  };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const mode of ['train', 'eval'] as const) {
      const seconds = timed(STEPS, () => (mode === 'train' ? trainStep(fused.model, fused.optimizer, x, y) : evalStep(fused.model, x)));
      const torchSeconds = (await torch.ask(`${mode} ${STEPS}`)).seconds as number;
      const [a, b] = [(BATCH * STEPS) / seconds, (BATCH * STEPS) / torchSeconds];
      rows[mode].tfjs.push(a);
      rows[mode].torch.push(b);
      rows[mode].ratio.push(a / b);
      console.log(
        `round ${round} ${mode}: runner ${a.toFixed(1)} examples/s, PyTorch ${b.toFixed(1)} examples/s, ratio ${(a / b).toFixed(2)}`,
      );
    }
  }
  const tfjsPeak = peakRssMb();
  const torchPeak = (await torch.ask('rss')).max_rss_mb as number;
  torch.close();

  const variants: Array<{ name: string; ops: number; rate?: number }> = [
    { name: "birnn 'fused', native BlockLSTM kernels (the default)", ops: countOps(() => trainStep(fused.model, fused.optimizer, x, y)) },
  ];
  if (SLOW_STEPS > 0) {
    setFusedImplementation(fused.model, 'js');
    const ops = countOps(() => trainStep(fused.model, fused.optimizer, x, y)); // also the warm-up
    const rate = (BATCH * SLOW_STEPS) / timed(SLOW_STEPS, () => trainStep(fused.model, fused.optimizer, x, y));
    variants.push({ name: "birnn 'fused' on tfjs ops (the pure-JS fallback's code)", ops, rate });
    const layers = buildBirnn('layers');
    const layersOps = countOps(() => trainStep(layers.model, layers.optimizer, x, y));
    const layersRate = (BATCH * SLOW_STEPS) / timed(SLOW_STEPS, () => trainStep(layers.model, layers.optimizer, x, y));
    variants.push({ name: "birnn 'layers' (tfjs-layers bidirectional(lstm), the reference)", ops: layersOps, rate: layersRate });
  }

  const fmt = (v: number, digits = 1): string => v.toFixed(digits);
  console.log(`\nmedians of ${ROUNDS} rounds of ${STEPS} steps each (after one warm-up step):\n`);
  console.log('| BiRNN, batch 64 × 500 | runner (birnn fused, native) examples/s | PyTorch 2.13 examples/s | runner / PyTorch |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const mode of ['train', 'eval'] as const) {
    const r = rows[mode];
    const name = mode === 'train' ? 'training step (forward, backward, Adam)' : 'forward only (evaluation)';
    console.log(
      `| ${name} | ${fmt(median(r.tfjs))} | ${fmt(median(r.torch))} | ${fmt(median(r.ratio), 2)}× (${fmt(Math.min(...r.ratio), 2)}–${fmt(Math.max(...r.ratio), 2)}) |`,
    );
  }
  console.log(`\npeak RSS: runner ${fmt(tfjsPeak, 0)} MB, PyTorch ${fmt(torchPeak, 0)} MB`);
  console.log(`\n| training step, native backend | TensorFlow ops dispatched from JS | examples/s |\n| --- | ---: | ---: |`);
  const fusedRate = median(rows.train.tfjs);
  for (const v of variants) console.log(`| ${v.name} | ${v.ops} | ${fmt(v.rate ?? fusedRate, 2)} |`);
  if (SLOW_STEPS > 0) console.log(`(the slower variants: ${SLOW_STEPS} step after a warm-up step, after the rounds above)`);
}

await main();

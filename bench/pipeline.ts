// IMDb data pipeline: the runner against the Python reference (bench/pipeline.py), same steps, same run.
//
//   node --import tsx bench/pipeline.ts [ARCHIVE] [--repeat N] [--no-python] [--before]
//
// Steps, train + test: read the reviews out of aclImdb_v1.tar.gz → tokenize (whitespace, lower-case)
// → vocabulary from the training split (min_freq 5) → truncate/pad to 500 → tensors.
// Prints per-stage times of the runner, the best of N warm runs of each side and the ratio;
// --before also times the generic Tokenizer path and the encoder as it was before the rewrite,
// interleaved with the runner's runs (same machine load).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { loadImdb } from '../components/dataset/imdb.ts';
import { tokenizers } from '../components/tokenizer/index.ts';
import { describeBackend, selectBackend } from '../runner/backend/select.ts';
import type { Tokenizer } from '../components/tokenizer/tokenizer.ts';
import { encodeTextDataset, textBatchSources, type EncodedTextData } from '../runner/data/text-pipeline.ts';
import type { TextDataset } from '../runner/data/types.ts';
import { Vocab } from '../runner/data/vocab.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const option = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : fallback);
const archive = resolve(
  args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--repeat')) ?? join(root, '../shared/data/aclImdb_v1.tar.gz'),
);
const repeat = Number(option('--repeat', '5'));

/** The encoder before the one-pass rewrite (token arrays for every text, then Vocab.build, then encode); for --before. */
function encodeBefore(dataset: TextDataset, tokenizer: Tokenizer, options: { minFreq: number; maxLen: number }): EncodedTextData {
  const trainTokens = dataset.train.texts.map((text) => tokenizer.tokenize(text));
  const testTokens = dataset.test.texts.map((text) => tokenizer.tokenize(text));
  const vocab = Vocab.build(trainTokens, options);
  const split = (tokens: string[][], labels: Int32Array) => ({ ids: vocab.encode(tokens, options.maxLen), labels, count: labels.length });
  return {
    vocab,
    classes: dataset.classes,
    maxLen: options.maxLen,
    train: split(trainTokens, dataset.train.labels),
    test: split(testTokens, dataset.test.labels),
  };
}

type Variant = 'runner' | 'generic' | 'before';

/**
 * One run of the pipeline with per-stage times (seconds): as the runner does it (whitespace scanner),
 * through the generic Tokenizer interface, or with the encoder as it was before the rewrite.
 */
async function runnerPipeline(variant: Variant = 'runner') {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const dataset = await loadImdb({ path: archive, download: false, url: '' }, { warn: console.warn });
  const t1 = performance.now();
  const tokenizerConfig = { type: 'whitespace', lowercase: true };
  const tokenizer = tokenizers.build(tokenizerConfig, { configDir: root, warn: console.warn });
  if (dataset.kind !== 'text') throw new Error('not text');
  const options = { minFreq: 5, maxLen: 500 };
  const encoded =
    variant === 'before'
      ? encodeBefore(dataset, tokenizer, options)
      : encodeTextDataset(dataset, tokenizer, { ...options, tokenizerConfig: variant === 'runner' ? tokenizerConfig : undefined });
  const t2 = performance.now();
  const sources = textBatchSources(encoded);
  const t3 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const result = {
    total: (t3 - t0) / 1000,
    cpu: (cpu.user + cpu.system) / 1e6,
    read: (t1 - t0) / 1000,
    tokenize_vocab_encode: (t2 - t1) / 1000,
    tensors: (t3 - t2) / 1000,
    vocab: encoded.vocab.size,
    shapes: [encoded.train.count, encoded.test.count],
  };
  sources.train.dispose();
  sources.test.dispose();
  return result;
}

function python(): string | undefined {
  if (process.env.PYTHON) return process.env.PYTHON;
  for (const candidate of ['.cache/bench-venv/bin/python', '.venv/bin/python'])
    if (existsSync(join(root, candidate))) return join(root, candidate);
  return 'python3';
}

const backend = await selectBackend('cpu');
console.log(`backend: ${describeBackend(backend)}; archive ${archive}; best of ${repeat} warm runs (after one warm-up)`);
const fmt = (s: number) => `${s.toFixed(3)} s`;
type Run = Awaited<ReturnType<typeof runnerPipeline>>;
const report = (label: string, runs: Run[]) => {
  const best = runs.reduce((a, b) => (b.total < a.total ? b : a));
  console.log(
    `${label}: best ${fmt(best.total)} (read ${fmt(best.read)}, tokenize+vocab+encode ${fmt(best.tokenize_vocab_encode)}, ` +
      `tensors ${fmt(best.tensors)}; CPU time ${fmt(best.cpu)}); all: ${runs.map((r) => r.total.toFixed(3)).join(' ')}; vocabulary ${best.vocab}`,
  );
  return best;
};
await runnerPipeline(); // warm-up: JIT, file cache
const variants: Variant[] = ['runner', ...(flag('--before') ? (['generic', 'before'] as const) : [])];
const runs = new Map<Variant, Run[]>(variants.map((v) => [v, []]));
for (let i = 0; i < repeat; i++) for (const v of variants) runs.get(v)!.push(await runnerPipeline(v)); // interleaved: same load
const best = report('runner', runs.get('runner')!);
if (flag('--before')) {
  report('runner, generic Tokenizer path (no whitespace scanner)', runs.get('generic')!);
  report('runner before: token arrays, Vocab.build, encode', runs.get('before')!);
}
if (!flag('--no-python')) {
  const interpreter = python()!;
  const out = execFileSync(interpreter, [join(root, 'bench/pipeline.py'), archive, '--repeat', String(repeat), '--json'], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  const py = JSON.parse(out.trim().split('\n').at(-1)!) as { best: number; seconds: number[]; cpu: number[]; vocab: number };
  console.log(
    `python (${interpreter}): best ${fmt(py.best)} (CPU time ${fmt(py.cpu[py.seconds.indexOf(py.best)]!)}); ` +
      `all: ${py.seconds.map((s) => s.toFixed(3)).join(' ')}; vocabulary ${py.vocab}`,
  );
  console.log(
    `ratio: the runner is ${(py.best / best.total).toFixed(1)}× faster than the Python reference (${fmt(py.best)} / ${fmt(best.total)})`,
  );
}
console.log(`tensors left: ${tf.memory().numTensors}`);

// IMDb data pipeline: the runner against the Python reference (bench/pipeline.py), same steps, same run.
//
//   node --import tsx bench/pipeline.ts [ARCHIVE] [--repeat N] [--no-python]
//
// Steps, train + test: read the reviews out of aclImdb_v1.tar.gz → tokenize (whitespace, lower-case)
// → vocabulary from the training split (min_freq 5) → truncate/pad to 500 → tensors.
// Prints per-stage times of the runner, the best of N warm runs of each side and the ratio.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { loadImdb } from '../components/dataset/imdb.ts';
import { tokenizers } from '../components/tokenizer/index.ts';
import { describeBackend, selectBackend } from '../runner/backend/select.ts';
import { encodeTextDataset, textBatchSources } from '../runner/data/text-pipeline.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const option = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : fallback);
const archive = resolve(
  args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--repeat')) ?? join(root, '../shared/data/aclImdb_v1.tar.gz'),
);
const repeat = Number(option('--repeat', '5'));

/** One run of the runner's pipeline with per-stage times (seconds). */
async function runnerPipeline() {
  const t0 = performance.now();
  const dataset = await loadImdb({ path: archive, download: false, url: '' }, { warn: console.warn });
  const t1 = performance.now();
  const tokenizer = tokenizers.build({ type: 'whitespace' }, { configDir: root, warn: console.warn });
  const encoded = encodeTextDataset(dataset, tokenizer, { minFreq: 5, maxLen: 500 });
  const t2 = performance.now();
  const sources = textBatchSources(encoded);
  const t3 = performance.now();
  const result = {
    total: (t3 - t0) / 1000,
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
await runnerPipeline(); // warm-up: JIT, file cache
const runs = [];
for (let i = 0; i < repeat; i++) runs.push(await runnerPipeline());
const best = runs.reduce((a, b) => (b.total < a.total ? b : a));
const fmt = (s: number) => `${s.toFixed(3)} s`;
console.log(
  `runner: best ${fmt(best.total)} (read ${fmt(best.read)}, tokenize+vocab+encode ${fmt(best.tokenize_vocab_encode)}, ` +
    `tensors ${fmt(best.tensors)}); all: ${runs.map((r) => r.total.toFixed(3)).join(' ')}; vocabulary ${best.vocab}`,
);
if (!flag('--no-python')) {
  const interpreter = python()!;
  const out = execFileSync(interpreter, [join(root, 'bench/pipeline.py'), archive, '--repeat', String(repeat), '--json'], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  const py = JSON.parse(out.trim().split('\n').at(-1)!) as { best: number; seconds: number[]; vocab: number };
  console.log(
    `python (${interpreter}): best ${fmt(py.best)}; all: ${py.seconds.map((s) => s.toFixed(3)).join(' ')}; vocabulary ${py.vocab}`,
  );
  console.log(
    `ratio: the runner is ${(py.best / best.total).toFixed(1)}× faster than the Python reference (${fmt(py.best)} / ${fmt(best.total)})`,
  );
}
console.log(`tensors left: ${tf.memory().numTensors}`);

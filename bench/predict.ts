// runner predict throughput: IMDb-length reviews per second with TextCNN on the native CPU backend.
//   node --import tsx bench/predict.ts [--run <run-folder>] [--reviews 4000] [--rounds 5] [--batch-size 256]
// Goal: ≥ 2,000 reviews/s.
// Without --run, a run folder is made in the OS temp dir with the model of configs/textcnn.yaml (embed 100 ×2,
// kernels 3/4/5 × 100, max_len 500) on random weights (seeded) and a 46,152-word vocabulary (the IMDb
// vocabulary size at min_freq 5, docs/BENCHMARKS.md "Text pipeline") of synthetic words. Reviews are
// synthetic too: 230 words on average (IMDb's mean; lengths 50–700), words drawn Zipf-like from the
// vocabulary plus 5 % unknown words, so tokenization, vocabulary lookup, truncation and padding do the work
// they do on IMDb. Measured through the code of `runner predict` (Predictor: encodeTexts → source →
// predict in batches: softmax, argmax, read back): medians over rounds after one warm-up round. Also timed
// once: the CLI end to end (`runner predict <run> --file reviews.txt --json`: process start, backend,
// model load, reading the file, the JSON document). Load average ≥ 1.5 at the start: other work shares the
// cores and the figures are marked as taken under load.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { models } from '../components/model/index.ts';
import { describeBackend, selectBackend } from '../runner/backend/select.ts';
import { loadConfig } from '../runner/config/load.ts';
import { SPECIAL_TOKENS, Vocab } from '../runner/data/vocab.ts';
import { saveModel } from '../runner/run/model-io.ts';
import { Predictor } from '../runner/run/predictor.ts';
import { CLASSES_FILE, RunFolder } from '../runner/run/run-folder.ts';
import { seededRandom } from '../runner/train/random.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const IMDB_VOCAB = 46_152;
const { values } = parseArgs({
  options: {
    run: { type: 'string' },
    reviews: { type: 'string', default: '4000' },
    rounds: { type: 'string', default: '5' },
    'batch-size': { type: 'string', default: '256' },
  },
});
const reviewCount = Number(values.reviews);
const rounds = Number(values.rounds);
const batchSize = Number(values['batch-size']);
const loadStart = loadavg()[0]!;
const backend = await selectBackend('cpu', { warn: (m) => console.error(`warning: ${m}`) });
console.log(`backend: ${describeBackend(backend)}; ${availableParallelism()} cores; load average ${loadStart.toFixed(2)} at the start`);

const scratch = mkdtempSync(join(tmpdir(), 'runner-bench-predict-'));
const runDir = values.run ? resolve(values.run) : await randomRun(scratch);
const context = { configDir: runDir, warn: (m: string) => console.error(`warning: ${m}`) };
const predictor = await Predictor.load(runDir, context);
const vocab = predictor.input.kind === 'text' ? predictor.input.vocab : undefined;
if (!vocab) throw new Error(`${runDir} is not a text run`);
const reviews = syntheticReviews(vocab, reviewCount);
const words = reviews.reduce((n, r) => n + r.split(' ').length, 0);
console.log(
  `run ${runDir}: vocabulary ${vocab.size}, max_len ${predictor.config.data.max_len}; ${reviewCount} reviews, ${(words / reviewCount).toFixed(0)} words on average`,
);

const tensorsBefore = tf.memory().numTensors;
const times: Array<{ encode: number; model: number; total: number }> = [];
for (let round = 0; round <= rounds; round++) {
  const start = performance.now();
  const ids = predictor.encodeTexts(reviews);
  const encoded = performance.now();
  const source = predictor.source(ids, new Int32Array(reviews.length));
  const { probabilities } = predictor.predict(source, batchSize);
  source.dispose();
  const end = performance.now();
  if (probabilities.length !== reviews.length * predictor.classes.length) throw new Error('wrong output size');
  const t = { encode: (encoded - start) / 1000, model: (end - encoded) / 1000, total: (end - start) / 1000 };
  console.log(
    `${round === 0 ? 'warm-up' : `round ${round}`}: ${(reviewCount / t.total).toFixed(0)} reviews/s ` +
      `(encode ${t.encode.toFixed(3)} s, model ${t.model.toFixed(3)} s)`,
  );
  if (round > 0) times.push(t);
}
if (tf.memory().numTensors !== tensorsBefore) throw new Error(`tensors left: ${tf.memory().numTensors - tensorsBefore}`);
predictor.dispose();

const file = join(scratch, 'reviews.txt');
writeFileSync(file, reviews.join('\n') + '\n');
const cliStart = performance.now();
const cli = spawnSync(process.execPath, [join(ROOT, 'bin', 'runner.js'), 'predict', runDir, '--file', file, '--json'], {
  maxBuffer: 1 << 30,
  encoding: 'utf8',
});
const cliSeconds = (performance.now() - cliStart) / 1000;
if (cli.status !== 0) throw new Error(`runner predict failed: ${cli.stderr}`);
if (JSON.parse(cli.stdout).predictions.length !== reviewCount) throw new Error('the CLI predicted another number of reviews');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const total = median(times.map((t) => t.total));
const loadEnd = loadavg()[0]!;
const loaded = loadStart >= 1.5 ? ' (taken under load: load average ≥ 1.5 at the start)' : '';
const result = {
  reviews_per_s: Math.round(reviewCount / total),
  encode_reviews_per_s: Math.round(reviewCount / median(times.map((t) => t.encode))),
  model_reviews_per_s: Math.round(reviewCount / median(times.map((t) => t.model))),
  cli_reviews_per_s: Math.round(reviewCount / cliSeconds),
  cli_seconds: Number(cliSeconds.toFixed(2)),
  reviews: reviewCount,
  batch_size: batchSize,
  load_average: { start: Number(loadStart.toFixed(2)), end: Number(loadEnd.toFixed(2)) },
};
console.log(
  `\nmedian of ${rounds}: ${result.reviews_per_s} reviews/s (encode ${result.encode_reviews_per_s}/s, model ${result.model_reviews_per_s}/s); ` +
    `CLI end to end ${result.cli_reviews_per_s} reviews/s (${result.cli_seconds} s); goal ≥ 2,000: ${result.reviews_per_s >= 2000 ? 'met' : 'not met'}${loaded}`,
);
console.log(`load average ${loadStart.toFixed(2)} at the start, ${loadEnd.toFixed(2)} at the end`);
console.log(JSON.stringify(result));
rmSync(scratch, { recursive: true, force: true });

/** A run folder with configs/textcnn.yaml's model on seeded random weights and an IMDb-sized vocabulary. */
async function randomRun(dir: string): Promise<string> {
  const { config } = loadConfig(join(ROOT, 'configs', 'textcnn.yaml'));
  const folder = new RunFolder(dir, 'textcnn-random');
  folder.writeConfig(config, 'bench/predict.ts: configs/textcnn.yaml with random weights');
  const tokens = [...SPECIAL_TOKENS, ...Array.from({ length: IMDB_VOCAB - SPECIAL_TOKENS.length }, (_, i) => wordOf(i))];
  folder.writeText('vocab.txt', new Vocab(tokens).serialize());
  folder.writeJson(CLASSES_FILE, ['neg', 'pos']);
  const model = await models.build(config.model, { numClasses: 2, inputShape: [config.data.max_len], vocabSize: IMDB_VOCAB });
  await saveModel(model, folder.path('model'));
  model.dispose();
  folder.close();
  return folder.dir;
}

/** A distinct lower-case word for vocabulary rank `i` (short for frequent ranks). */
function wordOf(i: number): string {
  const letters = 'etaoinshrdlucmfwypvbgkqjxz';
  let word = '';
  let n = i + 1;
  while (n > 0) {
    word += letters[n % 26];
    n = Math.floor(n / 26);
  }
  return word;
}

/** IMDb-length synthetic reviews: Zipf-like word ranks, 5 % unknown words, 50–700 words (mean ~230). */
function syntheticReviews(vocabulary: Vocab, count: number): string[] {
  const random = seededRandom(1);
  const size = vocabulary.size - SPECIAL_TOKENS.length;
  return Array.from({ length: count }, () => {
    const length = Math.min(700, Math.max(50, Math.round(230 * Math.exp((random() - 0.5) * 1.2) * 0.95)));
    const words: string[] = [];
    for (let w = 0; w < length; w++) {
      if (random() < 0.05) words.push(`zz${Math.floor(random() * 1e6)}`);
      else words.push(vocabulary.tokens[SPECIAL_TOKENS.length + Math.min(size - 1, Math.floor(size ** random()) - 1)]!);
    }
    return words.join(' ');
  });
}

import { readFileSync } from 'node:fs';
import { ImageDecodeError } from '../../components/dataset/image-decode.ts';
import { selectBackend, type Device } from '../backend/select.ts';
import { parseCommandArgs } from '../cli-args.ts';
import { UserError } from '../errors.ts';
import { Progress } from '../progress.ts';
import { Predictor } from '../run/predictor.ts';
import type { Command } from './command.ts';
import { printJson, wantsJson, withJsonErrors } from './json-output.ts';
import { expandGlobs, fileInputs, inputLines, parseInputFormat, type RawInput } from './predict-inputs.ts';

/** One prediction as `--json` prints it. */
export interface PredictionJson {
  /** Where the input came from: `argument 1`, `stdin line 2`, `reviews.csv row 3`, an image path. */
  input: string;
  /** The text predicted (text runs). */
  text?: string;
  label: string;
  probabilities: Record<string, number>;
}

/** `runner predict`: labels new texts or images with a trained run's model. */
export const command: Command = {
  help: `Usage: runner predict <run-folder> [TEXT...] [options]
       runner predict <run-folder> IMAGE-OR-GLOB... [options]

Loads the run's model (model/, the kept epoch) and what turned its raw input into tensors (config.yaml's
tokenizer and max_len with vocab.txt; for images the dataset's image_size and fit and the augmentation
steps that apply to the test split), from the run folder alone: a run folder copied elsewhere still predicts.

Inputs (text runs): the TEXT arguments; else --file; else one text per line on stdin. An empty TEXT
argument predicts from an all-padding input (every token id <pad>). Image runs: image paths or globs
(a * or ? in the file name), or --file/stdin with one path per line.

Options:
  --file <F>           Read inputs from F: one per line, or a column of a .csv, .tsv or .jsonl table
  --column <name>      The table column holding the text (default: text)
  --format <f>         How to read --file: lines, csv, tsv or jsonl (default: from the extension, else lines)
  --skip-bad           Skip a bad input (an empty line, text that is not UTF-8, an image that does not
                       decode, a missing file) with a warning instead of stopping with an error
  --batch-size <n>     Inputs per model call (default 256)
  --device <d>         auto, cpu or gpu (default: cpu)
  --json               Print one JSON document on stdout: {status, run_folder, classes, predictions:
                       [{input, text?, label, probabilities}], skipped: [{input, error}]}
  --debug              Show stack traces of errors

Exit codes: 0 done, 2 bad input (the run folder, an input, the command line).

Example: runner predict runs/quickstart/20261201-101502-3fa9c2 'this movie is so great'`,
  async run(argv) {
    const json = wantsJson(argv);
    return withJsonErrors(json, async () => {
      const { values, positionals } = parseCommandArgs('predict', argv, {
        file: { type: 'string' },
        column: { type: 'string' },
        format: { type: 'string' },
        'skip-bad': { type: 'boolean' },
        'batch-size': { type: 'string' },
        device: { type: 'string' },
        json: { type: 'boolean' },
      });
      const [runDir, ...given] = positionals;
      if (runDir === undefined) throw new UserError("runner predict needs a run folder. See 'runner predict --help'.");
      if (values.file !== undefined && given.length > 0) throw new UserError('Give inputs as arguments or with --file, not both.');
      const batchSize = positiveInteger(values['batch-size'] ?? '256', '--batch-size');
      const progress = new Progress(process.stderr);
      await selectBackend(device(values.device), { warn: (m) => progress.warn(m) });
      const predictor = await Predictor.load(runDir, { configDir: runDir, warn: (m) => progress.warn(m) });
      try {
        const image = predictor.input.kind === 'image';
        const raw: RawInput[] =
          given.length > 0
            ? image
              ? expandGlobs(given)
              : given.map((value, i) => ({ where: `argument ${i + 1}`, value }))
            : values.file !== undefined
              ? fileInputs(values.file, { format: parseInputFormat(values.format), column: values.column })
              : stdinInputs();
        const skipBad = values['skip-bad'] ?? false;
        const skipped: Array<{ input: string; error: string }> = [];
        const bad = (input: RawInput, problem: string) => {
          if (!skipBad) {
            throw new UserError(`${input.where} ${problem}. Fix or remove it, or pass --skip-bad to skip such inputs with a warning.`);
          }
          progress.warn(`skipped ${input.where}: it ${problem}`);
          skipped.push({ input: input.where, error: problem });
        };
        const kept: RawInput[] = [];
        const pixels: Uint8Array[] = [];
        for (const input of raw) {
          if (input.problem) {
            bad(input, input.problem);
            continue;
          }
          if (!image) {
            kept.push(input);
            continue;
          }
          const decoded = decodeImageFile(predictor, input.value);
          if (typeof decoded === 'string') bad(input, decoded);
          else {
            kept.push(input);
            pixels.push(decoded);
          }
        }
        if (kept.length === 0)
          throw new UserError(
            raw.length === 0
              ? 'No inputs to predict: give texts, --file, or lines on stdin.'
              : 'Every input was skipped; nothing to predict.',
          );
        const encoded = image ? concatBytes(pixels) : predictor.encodeTexts(kept.map((i) => i.value));
        const source = predictor.source(encoded, new Int32Array(kept.length), image ? kept.map((i) => i.value) : []);
        let predicted: ReturnType<Predictor['predict']>;
        try {
          predicted = predictor.predict(source, batchSize);
        } finally {
          source.dispose();
        }
        const predictions = predictionsOf(predictor.classes, predicted, kept, image);
        if (json) printJson({ status: 'ok', run_folder: predictor.runDir, classes: predictor.classes, predictions, skipped });
        else process.stdout.write(predictionTable(predictor.classes, predictions) + '\n');
        return 0;
      } finally {
        predictor.dispose();
      }
    });
  },
};

/** Stdin's lines as inputs (a terminal on stdin means nothing was given). */
function stdinInputs(): RawInput[] {
  if (process.stdin.isTTY)
    throw new UserError("No inputs: give texts as arguments, --file, or lines on stdin. See 'runner predict --help'.");
  return inputLines(readFileSync(0), 'stdin');
}

/** An image file decoded and fitted, or why it cannot be. */
function decodeImageFile(predictor: Predictor, path: string): Uint8Array | string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    return `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  }
  try {
    return predictor.decodeImage(bytes);
  } catch (error) {
    if (error instanceof ImageDecodeError) return `is ${error.message}`;
    throw error;
  }
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Each input's most probable class and its class probabilities. */
export function predictionsOf(
  classes: string[],
  predicted: { probabilities: Float32Array; labels: Int32Array },
  inputs: RawInput[],
  image: boolean,
): PredictionJson[] {
  const k = classes.length;
  return inputs.map((input, i) => {
    const row = predicted.probabilities.subarray(i * k, (i + 1) * k);
    return {
      input: input.where,
      ...(!image && { text: input.value }),
      label: classes[predicted.labels[i]!]!,
      probabilities: Object.fromEntries(classes.map((name, c) => [name, Number(row[c]!.toFixed(6))])),
    };
  });
}

/** The table people read: label, its probability, every class's probability, the input. */
function predictionTable(classes: string[], predictions: PredictionJson[]): string {
  const header = ['label', ...classes.map((c) => `p(${c})`), 'input'];
  const rows = predictions.map((p) => [
    p.label,
    ...classes.map((c) => p.probabilities[c]!.toFixed(3)),
    p.text === undefined ? p.input : shorten(p.text, 60),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

function shorten(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length <= width ? flat : `${flat.slice(0, width - 1)}…`;
}

/** A `--batch-size`-like option's value. */
export function positiveInteger(text: string, option: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new UserError(`${option} ${text}: expected a positive whole number.`);
  return value;
}

/** A `--device` option's value (default cpu). */
export function device(text: string | undefined): Device {
  const value = text ?? 'cpu';
  if (value !== 'auto' && value !== 'cpu' && value !== 'gpu') throw new UserError(`--device ${value}: expected auto, cpu or gpu.`);
  return value;
}

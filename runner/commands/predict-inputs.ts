import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { formatFromPath, readTableColumns, type TableFormat } from '../../components/dataset/table-formats.ts';
import { UserError } from '../errors.ts';

/** One input of `runner predict` as given: a text or an image path, or why it cannot be used. */
export interface RawInput {
  /** Where it came from, for messages and output: `argument 2`, `stdin line 3`, `reviews.txt line 7`, a file path. */
  where: string;
  /** The text (text runs) or the file path (image runs). */
  value: string;
  /** Why the input is bad (empty line, not UTF-8, ...); bad inputs are errors unless skipped. */
  problem?: string;
}

/** Formats `--file` reads: one input per line, or a table column. */
export type InputFormat = 'lines' | TableFormat;

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The lines of `bytes` as inputs: each decoded as UTF-8 on its own (a line in another encoding is a bad
 * input named by its line number), an empty line is bad too; the empty piece after a final newline is no line.
 */
export function inputLines(bytes: Uint8Array, where: string): RawInput[] {
  const inputs: RawInput[] = [];
  let start = 0;
  let line = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    line++;
    const piece = bytes.subarray(start, end > start && bytes[end - 1] === 0x0d ? end - 1 : end);
    const at = `${where} line ${line}`;
    try {
      const value = UTF8.decode(piece);
      inputs.push(value.trim() === '' ? { where: at, value, problem: 'is empty' } : { where: at, value });
    } catch {
      inputs.push({
        where: at,
        value: '',
        problem: 'is not UTF-8 text (convert the input first, e.g. iconv -f latin1 -t utf-8)',
      });
    }
    start = end + 1;
  }
  return inputs;
}

/** The inputs of `--file`: lines, or the `column` of a CSV/TSV/JSONL table (format from `format`, else the extension). */
export function fileInputs(file: string, options: { format?: InputFormat; column?: string }): RawInput[] {
  if (!existsSync(file) || !statSync(file).isFile()) throw new UserError(`--file ${file}: no such file.`);
  const bytes = readFileSync(file);
  const format = options.format ?? formatFromPath(file) ?? 'lines';
  if (format === 'lines') {
    if (options.column !== undefined) throw new UserError(`--column goes with a CSV, TSV or JSONL file; ${file} is read as lines.`);
    return inputLines(bytes, file);
  }
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw new UserError(`${file} is not UTF-8 text; convert it first (e.g. iconv -f latin1 -t utf-8).`);
  }
  const { texts } = readTableColumns(text, format, { text: options.column ?? 'text' }, file);
  return texts.map((value, i) => ({ where: `${file} row ${i + 1}`, value }));
}

/** Image paths from arguments: a `*` or `?` in the last part of a path is matched against that folder's files. */
export function expandGlobs(patterns: readonly string[]): RawInput[] {
  return patterns.flatMap((pattern): RawInput[] => {
    const name = basename(pattern);
    if (!/[*?]/.test(name)) return [{ where: pattern, value: pattern }];
    const dir = dirname(pattern);
    const regex = new RegExp(
      `^${name
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    );
    const matches = existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => regex.test(f))
          .sort()
      : [];
    if (matches.length === 0) throw new UserError(`${pattern} matches no file.`);
    return matches.map((f) => ({ where: join(dir, f), value: join(dir, f) }));
  });
}

/** The table formats `--format` accepts, by name. */
export function parseInputFormat(text: string | undefined): InputFormat | undefined {
  if (text === undefined) return undefined;
  const formats: InputFormat[] = ['lines', 'csv', 'tsv', 'jsonl'];
  if (!formats.includes(text as InputFormat)) throw new UserError(`--format ${text}: expected one of ${formats.join(', ')}.`);
  return text as InputFormat;
}

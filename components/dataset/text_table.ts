import { readFile } from 'node:fs/promises';
import { Type } from '@sinclair/typebox';
import { UserError } from '../../runner/errors.ts';
import { FilePath, pathIssues } from '../../runner/config/path.ts';
import { defineComponent, type CheckIssue } from '../../runner/registry.ts';
import type { TextDataset } from '../../runner/data/types.ts';
import { formatFromPath, readTableColumns, type TableFormat } from './table-formats.ts';
import { decodeText, readTextDataset, stripNewlines } from './text-files.ts';

async function readTable(path: string, format: TableFormat | undefined, columns: { text: string; label: string }) {
  const chosen = format ?? formatFromPath(path);
  if (!chosen) throw new UserError(`Cannot tell the format of ${path} from its extension; set 'format' to csv, tsv or jsonl.`);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError(`The table ${path} does not exist.`);
    throw error;
  }
  const table = readTableColumns(decodeText(bytes, path), chosen, columns, path);
  return { texts: table.texts.map(stripNewlines), labels: table.labels };
}

/** A CSV, TSV or JSONL table per split with named text and label columns. */
export const textTable = defineComponent({
  name: 'text_table',
  summary: 'One CSV, TSV or JSONL file per split, with named text and label columns.',
  params: Type.Object(
    {
      train: FilePath({ description: 'Table with the training examples.' }),
      test: FilePath({ description: 'Table with the test examples.' }),
      validation: Type.Optional(
        FilePath({
          description:
            "Table with the dataset's own validation examples (same format and classes as train). Default: none " +
            '(data.validation can hold some out of train instead).',
        }),
      ),
      format: Type.Optional(
        Type.Union([Type.Literal('csv'), Type.Literal('tsv'), Type.Literal('jsonl')], {
          description: 'Table format (default: from the file extension).',
        }),
      ),
      text_column: Type.String({ default: 'text', description: 'Column (or JSON key) holding the text.' }),
      label_column: Type.String({ default: 'label', description: 'Column (or JSON key) holding the label.' }),
      classes: Type.Optional(
        Type.Array(Type.String(), { minItems: 2, uniqueItems: true, description: 'Labels in index order (default: sorted).' }),
      ),
    },
    { additionalProperties: false },
  ),
  check(params): CheckIssue[] {
    const tables = { train: params.train, test: params.test, validation: params.validation };
    return Object.entries(tables).flatMap(([key, path]) => (path === undefined ? [] : pathIssues(path, [key], `The ${key} table`, 'file')));
  },
  async build(params): Promise<TextDataset> {
    const columns = { text: params.text_column, label: params.label_column };
    const read = (path: string) => () => readTable(path, params.format, columns);
    return readTextDataset({
      source: params.train,
      where: `Dataset ${params.train}`,
      classes: params.classes,
      train: read(params.train),
      test: read(params.test),
      validation:
        params.validation === undefined
          ? undefined
          : { key: 'validation', source: `file ${params.validation}`, read: read(params.validation) },
    });
  },
});

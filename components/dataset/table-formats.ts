import { UserError } from '../../runner/errors.ts';

/** Supported table formats for `text_table`. */
export type TableFormat = 'csv' | 'tsv' | 'jsonl';

/** The table format implied by a file's extension, or undefined. */
export function formatFromPath(path: string): TableFormat | undefined {
  const match = /\.(csv|tsv|jsonl|ndjson)$/i.exec(path);
  if (!match) return undefined;
  const extension = match[1]!.toLowerCase();
  return extension === 'ndjson' ? 'jsonl' : (extension as TableFormat);
}

/** Parses delimiter-separated text (RFC 4180 quoting: "" escapes a quote, quoted fields may span lines). */
export function parseDelimited(text: string, delimiter: string, where: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (char === '\n') line++;
        field += char;
      }
    } else if (char === '"' && field === '') quoted = true;
    else if (char === delimiter) {
      row.push(field);
      field = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
      field = '';
      line++;
    } else field += char;
  }
  if (quoted) throw new UserError(`${where}: a quoted field opened before line ${line} is never closed.`);
  row.push(field);
  if (row.length > 1 || row[0] !== '') rows.push(row);
  return rows;
}

/** Reads named text and label columns (the label column when named) from a CSV/TSV/JSONL text; errors name the file and line. */
export function readTableColumns(
  text: string,
  format: TableFormat,
  columns: { text: string; label?: string },
  where: string,
): { texts: string[]; labels: string[] } {
  const texts: string[] = [];
  const labels: string[] = [];
  const take = (value: unknown, column: string, at: string): string => {
    if (value === undefined || value === null) throw new UserError(`${at}: the '${column}' column is missing.`);
    if (typeof value === 'object') throw new UserError(`${at}: the '${column}' column must be text or a number.`);
    return String(value);
  };
  if (format === 'jsonl') {
    text.split('\n').forEach((line, index) => {
      if (line.trim() === '') return;
      const at = `${where}:${index + 1}`;
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch (error) {
        throw new UserError(`${at}: not valid JSON (${(error as Error).message}).`);
      }
      if (typeof record !== 'object' || record === null || Array.isArray(record)) {
        throw new UserError(
          `${at}: each line must be a JSON object with '${columns.text}'${columns.label === undefined ? '' : ` and '${columns.label}'`}.`,
        );
      }
      const fields = record as Record<string, unknown>;
      texts.push(take(fields[columns.text], columns.text, at));
      if (columns.label !== undefined) labels.push(take(fields[columns.label], columns.label, at));
    });
  } else {
    const [header, ...rows] = parseDelimited(text, format === 'csv' ? ',' : '\t', where);
    if (!header) throw new UserError(`${where} is empty; it needs a header row naming its columns.`);
    const textIndex = header.indexOf(columns.text);
    const labelIndex = columns.label === undefined ? -1 : header.indexOf(columns.label);
    const wanted = columns.label === undefined ? [] : [[columns.label, labelIndex] as const];
    for (const [column, index] of [[columns.text, textIndex] as const, ...wanted]) {
      if (index < 0) throw new UserError(`${where}: no column '${column}' in the header (columns: ${header.join(', ')}).`);
    }
    rows.forEach((row, index) => {
      const at = `${where}: data row ${index + 1}`;
      texts.push(take(row[textIndex], columns.text, at));
      if (columns.label !== undefined) labels.push(take(row[labelIndex], columns.label, at));
    });
  }
  texts.forEach((t, i) => {
    if (t.trim() === '') throw new UserError(`${where}: example ${i + 1} has an empty '${columns.text}'.`);
  });
  if (texts.length === 0) throw new UserError(`${where} has no examples.`);
  return { texts, labels };
}

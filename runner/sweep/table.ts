/** Plain-text and Markdown tables for the terminal and the summary artifact. */

/** Column alignment. */
export type Align = 'left' | 'right';

/** A table as text: header, a rule, rows; columns padded to their widest cell (by code points). */
export function formatTable(headers: string[], rows: string[][], align: Align[] = []): string {
  const width = headers.map((header, i) => Math.max(length(header), ...rows.map((row) => length(row[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (align[i] === 'right' ? pad(cell, width[i]!, true) : pad(cell, width[i]!, false)))
      .join('  ')
      .trimEnd();
  return [
    line(headers),
    width
      .map((w) => '─'.repeat(w))
      .join('  ')
      .trimEnd(),
    ...rows.map(line),
  ].join('\n');
}

/** A Markdown table (pipes in cells escaped). */
export function markdownTable(headers: string[], rows: string[][], align: Align[] = []): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const rule = headers.map((_, i) => (align[i] === 'right' ? '---:' : '---'));
  return [headers, rule, ...rows].map((row, r) => `| ${row.map((c) => (r === 1 ? c : cell(c))).join(' | ')} |`).join('\n');
}

/** `text` cut to `max` code points with an ellipsis. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** A metric value for tables: 4 decimals, or as is for large values; '' when missing. */
export function formatMetric(value: number | undefined): string {
  if (value === undefined || value === null) return '';
  if (!Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 1000 ? value.toFixed(1) : value.toFixed(4);
}

/** Seconds as `4.2s`, `3m05s`, `1h02m`. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '';
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function length(text: string): number {
  return [...text].length;
}

function pad(text: string, width: number, left: boolean): string {
  const fill = ' '.repeat(Math.max(0, width - length(text)));
  return left ? fill + text : text + fill;
}

/**
 * Plain-text tables for a terminal: upper-case headers, columns two spaces apart, numbers aligned
 * right, and the last column cut to the terminal's width. Rows can arrive in batches (read, tail):
 * column widths only grow, so the header is printed once and later rows stay close to it.
 */

/** A table column: its header, the cell text of a row, and its alignment. */
export interface Column<Row> {
  header: string;
  cell: (row: Row) => string;
  align?: 'left' | 'right';
}

const gap = '  ';

function fit(text: string, width: number, align: 'left' | 'right' | undefined): string {
  return align === 'right' ? text.padStart(width) : text.padEnd(width);
}

function truncate(text: string, width: number): string {
  if (text.length <= width) return text;
  return width <= 1 ? text.slice(0, Math.max(0, width)) : `${text.slice(0, width - 1)}…`;
}

/** A table printed a batch of rows at a time. */
export class StreamingTable<Row> {
  readonly #columns: readonly Column<Row>[];
  readonly #maxWidth: number | undefined;
  readonly #widths: number[];
  #headerDone = false;

  /** `maxWidth`: the terminal's width, or undefined for no limit (a forced table on a pipe). */
  constructor(columns: readonly Column<Row>[], maxWidth: number | undefined) {
    this.#columns = columns;
    this.#maxWidth = maxWidth;
    this.#widths = columns.map((column) => column.header.length);
  }

  /** The lines for these rows, preceded by the header the first time. */
  render(rows: readonly Row[]): string[] {
    const cells = rows.map((row) => this.#columns.map((column) => column.cell(row).replace(/\s*\n\s*/g, ' ')));
    for (const line of cells) {
      line.forEach((cell, index) => {
        this.#widths[index] = Math.max(this.#widths[index] ?? 0, cell.length);
      });
    }
    const lines: string[] = [];
    if (!this.#headerDone) {
      lines.push(this.#line(this.#columns.map((column) => column.header)));
      this.#headerDone = true;
    }
    for (const line of cells) lines.push(this.#line(line));
    return lines;
  }

  #line(cells: string[]): string {
    const last = cells.length - 1;
    // A left-aligned last column is not padded (no trailing blanks) and is the one cut to fit.
    const parts = cells.map((cell, index) =>
      index === last && this.#columns[index]?.align !== 'right' ? cell : fit(cell, this.#widths[index] ?? 0, this.#columns[index]?.align),
    );
    const head = parts.slice(0, last).join(gap);
    const lastCell = parts[last] ?? '';
    if (this.#maxWidth === undefined) return (last === 0 ? lastCell : `${head}${gap}${lastCell}`).trimEnd();
    const room = this.#maxWidth - head.length - (last === 0 ? 0 : gap.length);
    return (last === 0 ? truncate(lastCell, room) : `${head}${gap}${truncate(lastCell, Math.max(room, 20))}`).trimEnd();
  }
}

/** A whole table at once. */
export function renderTable<Row>(columns: readonly Column<Row>[], rows: readonly Row[], maxWidth: number | undefined): string[] {
  return new StreamingTable(columns, maxWidth).render(rows);
}

/** Name/value lines for one record (`messagedb last`, `version`). */
export function renderRecord(fields: ReadonlyArray<readonly [string, string]>): string[] {
  const width = Math.max(...fields.map(([name]) => name.length));
  return fields.map(([name, value]) => `${name.padEnd(width)}  ${value}`.trimEnd());
}

/** An integer with thousands separators, the same on every machine. */
export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}

/** `1 message`, `2,000 messages`. */
export function countOf(value: number, singular: string, plural = `${singular}s`): string {
  return `${formatCount(value)} ${value === 1 ? singular : plural}`;
}

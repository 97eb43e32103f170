/**
 * A one-line progress bar on stderr, drawn only when stderr is a terminal (a pipe or a log file gets
 * nothing), redrawn at most ten times a second, and erased when done.
 */
import { formatCount } from './table.js';

interface Terminal {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

const redrawMs = 100;
const barWidth = 20;

/** Progress of a count of messages, against a known total (a bar) or not (a counter). */
export class ProgressBar {
  readonly #terminal: Terminal | undefined;
  readonly #label: string;
  readonly #startedAt = performance.now();
  #drawnAt = 0;

  constructor(label: string, terminal: Terminal = process.stderr) {
    this.#terminal = terminal.isTTY === true ? terminal : undefined;
    this.#label = label;
  }

  /** `done` messages so far; `fraction` of the whole from 0 to 1 when it is known. */
  update(done: number, fraction?: number): void {
    if (this.#terminal === undefined) return;
    const now = performance.now();
    if (now - this.#drawnAt < redrawMs) return;
    this.#drawnAt = now;
    const seconds = (now - this.#startedAt) / 1000;
    const rate = seconds > 0 ? Math.round(done / seconds) : 0;
    let bar = '';
    if (fraction !== undefined) {
      const clamped = Math.min(1, Math.max(0, fraction));
      const filled = Math.round(clamped * barWidth);
      bar = ` [${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)}] ${String(Math.floor(clamped * 100)).padStart(3)}%`;
    }
    const line = `${this.#label}${bar}  ${formatCount(done)} messages, ${formatCount(rate)} msg/s`;
    this.#terminal.write(`\r${line.slice(0, (this.#terminal.columns || 100) - 1)}\x1b[K`);
  }

  /** Erase the bar. */
  finish(): void {
    this.#terminal?.write('\r\x1b[K');
  }
}

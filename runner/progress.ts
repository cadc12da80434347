import type { StepProgress } from './train/loop.ts';
import type { MetricRecord } from './train/metrics.ts';

/** Shows training progress: a live bar on a terminal, one plain line per epoch elsewhere. */
export class Progress {
  private readonly live: boolean;
  private readonly quiet: boolean;
  private readonly color: boolean;
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    options: { quiet?: boolean } = {},
  ) {
    this.live = !options.quiet && Boolean(out.isTTY) && !process.env.CI;
    this.color = this.live && !process.env.NO_COLOR;
    this.quiet = options.quiet ?? false;
  }

  /** Prints a line of information (clearing the bar first). */
  info(message: string): void {
    if (this.quiet) return;
    this.clear();
    this.out.write(message + '\n');
  }

  /** Prints a warning in a way that stands out. */
  warn(message: string): void {
    this.clear();
    this.out.write((this.color ? `\u001b[33mwarning\u001b[0m ` : 'warning: ') + message + '\n');
  }

  /** Redraws the live bar (at most ~10 times a second). */
  step(p: StepProgress): void {
    if (!this.live) return;
    const now = performance.now();
    if (now - this.lastDraw < 100 && p.stepInEpoch < p.stepsInEpoch) return;
    this.lastDraw = now;
    const width = 24;
    const done = Math.round((p.stepInEpoch / p.stepsInEpoch) * width);
    const bar = '█'.repeat(done) + '░'.repeat(width - done);
    const line =
      `epoch ${p.epoch}/${p.epochs} ${bar} ${p.stepInEpoch}/${p.stepsInEpoch}` +
      ` loss ${fixed(p.loss, 4)} acc ${fixed(p.accuracy, 3)} ${p.examplesPerSecond.toFixed(0)} ex/s ETA ${formatSeconds(p.etaSeconds)}`;
    this.out.write('\r\u001b[2K' + line);
    this.drawn = true;
  }

  /** Prints the epoch summary line (`*` marks a new best epoch by the monitor). */
  epoch(record: MetricRecord, epochs: number, improved = false): void {
    if (this.quiet) return;
    this.clear();
    const m = record.metrics;
    this.out.write(
      `epoch ${record.epoch}/${epochs}: train loss ${m.train_loss?.toFixed(4)} acc ${m.train_accuracy?.toFixed(4)}` +
        (m.val_loss !== undefined ? ` | val loss ${m.val_loss.toFixed(4)} acc ${m.val_accuracy?.toFixed(4)}` : '') +
        (m.test_loss !== undefined ? ` | test loss ${m.test_loss.toFixed(4)} acc ${m.test_accuracy?.toFixed(4)}` : '') +
        (improved ? ' *' : '') +
        ` | ${m.examples_per_sec?.toFixed(1)} ex/s, ${m.epoch_time_s?.toFixed(1)} s\n`,
    );
  }

  private clear(): void {
    if (this.drawn) this.out.write('\r\u001b[2K');
    this.drawn = false;
  }
}

/** `value` with `digits` decimals, or '-' before there is one. */
function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '-';
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

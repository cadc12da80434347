import { encodePng, Raster, textWidth, WHITE, type Rgb } from '../common/png.ts';

/** One epoch's metrics as the plot reads them (the loop's epoch record). */
export interface EpochPoint {
  epoch: number;
  train_loss?: number;
  val_loss?: number;
  test_loss?: number;
  train_accuracy?: number;
  val_accuracy?: number;
  test_accuracy?: number;
}

const BLACK: Rgb = [0, 0, 0];
const GRID: Rgb = [228, 228, 228];
/** Series colours: train (blue), validation (green) and test (orange). */
export const TRAIN_COLOR: Rgb = [31, 119, 180];
export const VAL_COLOR: Rgb = [44, 160, 44];
export const TEST_COLOR: Rgb = [255, 127, 14];

/** About five round tick values covering [lo, hi] (steps of 1, 2 or 5 × 10^k). */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  if (!(hi > lo)) [lo, hi] = [lo - 0.5, hi + 0.5];
  const raw = (hi - lo) / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toFixed(12)));
  return ticks;
}

function decimalsOf(ticks: number[]): number {
  if (ticks.length < 2) return 2;
  const step = Math.abs(ticks[1]! - ticks[0]!);
  return Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
}

interface Series {
  label: string;
  color: Rgb;
  points: [number, number][];
}

/** Draws one panel (axes, grid, ticks, title, series) into the box x0..x0+w, y0..y0+h. */
function panel(raster: Raster, box: { x: number; y: number; w: number; h: number }, title: string, series: Series[], epochs: number[]) {
  const values = series.flatMap((s) => s.points.map((p) => p[1]));
  if (values.length === 0) return;
  const left = box.x + 70;
  const right = box.x + box.w - 15;
  const top = box.y + 34;
  const bottom = box.y + box.h - 46;
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.05 || 0.05;
  lo -= pad;
  hi += pad;
  const yTicks = niceTicks(lo, hi);
  lo = Math.min(lo, yTicks[0]!);
  hi = Math.max(hi, yTicks.at(-1)!);
  const firstEpoch = Math.min(...epochs);
  const lastEpoch = Math.max(...epochs, firstEpoch + 1);
  const xOf = (epoch: number) => left + ((epoch - firstEpoch) / (lastEpoch - firstEpoch)) * (right - left);
  const yOf = (value: number) => bottom - ((value - lo) / (hi - lo)) * (bottom - top);
  const decimals = decimalsOf(yTicks);
  for (const tick of yTicks) {
    const y = yOf(tick);
    raster.line(left, y, right, y, GRID);
    const label = tick.toFixed(decimals);
    raster.text(left - 8 - textWidth(label), y - 7, label, BLACK);
  }
  const xStep = Math.max(1, Math.ceil((lastEpoch - firstEpoch) / 10));
  for (let epoch = firstEpoch; epoch <= lastEpoch; epoch += xStep) {
    const x = xOf(epoch);
    raster.line(x, bottom, x, bottom + 5, BLACK);
    const label = String(epoch);
    raster.text(x - textWidth(label) / 2, bottom + 10, label, BLACK);
  }
  raster.line(left, top, left, bottom, BLACK);
  raster.line(left, bottom, right, bottom, BLACK);
  raster.text((left + right) / 2 - textWidth('epoch') / 2, bottom + 28, 'epoch', BLACK);
  raster.text((left + right) / 2 - textWidth(title) / 2, box.y + 8, title, BLACK);
  let legendX = right - 10;
  for (const s of [...series].reverse()) {
    legendX -= textWidth(s.label) + 26;
    raster.fill(legendX, top + 8, legendX + 14, top + 11, s.color);
    raster.text(legendX + 20, top + 3, s.label, BLACK);
  }
  for (const s of series) {
    const pts = s.points.map(([e, v]) => [xOf(e), yOf(v)] as const);
    for (let i = 1; i < pts.length; i++) raster.line(pts[i - 1]![0], pts[i - 1]![1], pts[i]![0], pts[i]![1], s.color, 3);
    for (const [x, y] of pts) raster.fill(x - 3, y - 3, x + 3, y + 3, s.color);
  }
}

/** The training-curve image: loss (left) and accuracy (right) per epoch, train, validation and test; an RGB raster. */
export function drawTrainingCurves(points: readonly EpochPoint[], width = 960, height = 380): Raster {
  const raster = new Raster(width, height);
  const epochs = points.map((p) => p.epoch);
  const seriesOf = (key: keyof EpochPoint, label: string, color: Rgb): Series => ({
    label,
    color,
    points: points.filter((p) => Number.isFinite(p[key])).map((p) => [p.epoch, p[key] as number]),
  });
  const half = Math.floor(width / 2);
  panel(
    raster,
    { x: 0, y: 0, w: half, h: height },
    'loss',
    [
      seriesOf('train_loss', 'train', TRAIN_COLOR),
      seriesOf('val_loss', 'val', VAL_COLOR),
      seriesOf('test_loss', 'test', TEST_COLOR),
    ].filter((series) => series.points.length > 0),
    epochs,
  );
  panel(
    raster,
    { x: half, y: 0, w: width - half, h: height },
    'accuracy',
    [
      seriesOf('train_accuracy', 'train', TRAIN_COLOR),
      seriesOf('val_accuracy', 'val', VAL_COLOR),
      seriesOf('test_accuracy', 'test', TEST_COLOR),
    ].filter((series) => series.points.length > 0),
    epochs,
  );
  return raster;
}

/**
 * The confusion-matrix image: one cell per (true class, predicted class) with its count, shaded by the share
 * of its row (the true class's examples); rows are true classes, columns predicted ones, both in class order.
 */
export function drawConfusionMatrix(classes: readonly string[], confusion: readonly (readonly number[])[]): Raster {
  const k = classes.length;
  const names = classes.map((c) => c.toLowerCase().slice(0, 14));
  const labelWidth = Math.max(...names.map((n) => textWidth(n)), textWidth('true')) + 16;
  const cell = Math.max(44, Math.min(90, Math.floor(640 / Math.max(k, 1))));
  const [left, top] = [labelWidth + 10, 60];
  const raster = new Raster(left + k * cell + 20, top + k * cell + 50);
  raster.text(left + (k * cell) / 2 - textWidth('predicted') / 2, 10, 'predicted', BLACK);
  raster.text(10, top - 22, 'true', BLACK);
  confusion.forEach((row, r) => {
    const total = row.reduce((a, b) => a + b, 0);
    raster.text(left - 8 - textWidth(names[r]!), top + r * cell + cell / 2 - 7, names[r]!, BLACK);
    row.forEach((count, c) => {
      const share = total === 0 ? 0 : count / total;
      const shade: Rgb = [Math.round(255 - share * 224), Math.round(255 - share * 136), Math.round(255 - share * 75)];
      const [x, y] = [left + c * cell, top + r * cell];
      raster.fill(x, y, x + cell - 2, y + cell - 2, shade);
      const label = String(count);
      raster.text(x + cell / 2 - textWidth(label) / 2, y + cell / 2 - 7, label, share > 0.6 ? WHITE : BLACK);
    });
  });
  names.forEach((name, c) => {
    const short = name.slice(0, Math.max(1, Math.floor(cell / 12) - 1));
    raster.text(left + c * cell + cell / 2 - textWidth(short) / 2, top - 22, short, BLACK);
  });
  return raster;
}

/** The confusion-matrix PNG of a classification report. */
export function confusionMatrixPng(report: { classes: readonly string[]; confusion: readonly (readonly number[])[] }): Buffer {
  return encodePng(drawConfusionMatrix(report.classes, report.confusion));
}

/** The training-curve PNG of a run's epoch records. */
export function trainingCurvesPng(points: readonly EpochPoint[]): Buffer {
  return encodePng(drawTrainingCurves(points));
}

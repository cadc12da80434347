import { PNG } from 'pngjs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodePng, Raster } from '../../../runner/common/png.ts';
import { drawTrainingCurves, niceTicks, TEST_COLOR, trainingCurvesPng, TRAIN_COLOR } from '../../../runner/run/plot.ts';

/** Decodes a PNG back to an RGB raster with pngjs (alpha dropped). */
function decodePng(png: Buffer): Raster {
  const image = PNG.sync.read(png);
  const raster = new Raster(image.width, image.height);
  for (let i = 0; i < image.width * image.height; i++) raster.pixels.set(image.data.subarray(i * 4, i * 4 + 3), i * 3);
  return raster;
}

test('encodePng round-trips pixels exactly', () => {
  const raster = new Raster(7, 5);
  raster.set(0, 0, [1, 2, 3]);
  raster.set(6, 4, [250, 128, 7]);
  raster.line(0, 4, 6, 0, [9, 99, 199]);
  assert.equal(decodePng(encodePng(raster)).pixels, raster.pixels);
});

const epochs = [1, 2, 3].map((epoch) => ({
  epoch,
  train_loss: 0.7 / epoch,
  test_loss: 0.5 - 0.05 * epoch,
  train_accuracy: 0.6 + 0.1 * epoch,
  test_accuracy: 0.7 + 0.05 * epoch,
}));

function colorCount(raster: Raster, color: readonly number[], x0 = 0, x1 = raster.width) {
  let n = 0;
  for (let y = 0; y < raster.height; y++) for (let x = x0; x < x1; x++) if (raster.get(x, y).every((v, i) => v === color[i])) n++;
  return n;
}

test('the training-curve PNG has both series in both panels (loss left, accuracy right)', () => {
  const raster = decodePng(trainingCurvesPng(epochs));
  assert.equal([raster.width, raster.height], [960, 380]);
  const half = raster.width / 2;
  for (const color of [TRAIN_COLOR, TEST_COLOR]) {
    assert.ok(colorCount(raster, color, 0, half) > 100, `loss panel has ${color}`);
    assert.ok(colorCount(raster, color, half) > 100, `accuracy panel has ${color}`);
  }
  assert.equal(decodePng(trainingCurvesPng(epochs)).pixels, raster.pixels, 'deterministic');
});

test('the curves follow the data: a higher point is drawn higher', () => {
  const up = drawTrainingCurves([
    { epoch: 1, train_loss: 0 },
    { epoch: 2, train_loss: 1 },
  ]);
  const column = (raster: Raster, x: number) => {
    for (let y = 0; y < raster.height; y++) if (raster.get(x, y).every((v, i) => v === TRAIN_COLOR[i])) return y;
    return -1;
  };
  const [left, right] = [column(up, 75), column(up, 462)];
  assert.ok(left > 0 && right > 0 && right < left, `first point at y=${left}, last at y=${right}`);
});

test('one epoch, or missing metrics, still draws', () => {
  assert.ok(trainingCurvesPng([{ epoch: 1, train_loss: 0.5, test_accuracy: 0.8 }]).length > 100);
  assert.ok(trainingCurvesPng([{ epoch: 1 }]).length > 100);
});

test('niceTicks: round steps covering the range', () => {
  assert.equal(niceTicks(0.12, 0.61), [0.2, 0.3, 0.4, 0.5, 0.6]);
  assert.equal(niceTicks(0, 10), [0, 2, 4, 6, 8, 10]);
  assert.ok(niceTicks(0.5, 0.5).length >= 2);
});

test.run();

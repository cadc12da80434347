import { join } from 'node:path';
import { loadConfig, parseSetOption, type LoadedConfig } from '../../runner/config/load.ts';
import { fixture, tempDir, writeTree } from './files.ts';

/** A config on the sentence fixture (TextCNN, 2 epochs), with `extra` YAML appended; loaded and validated. */
export function fixtureExperiment(extra = '', sets: string[] = []): LoadedConfig {
  const dir = writeTree(tempDir(), {
    'experiment.yaml': `name: fixture
seed: 3
data:
  dataset: {type: text_folder, path: ${JSON.stringify(fixture('sentences'))}}
  max_len: 24
  batch_size: 32
model: {type: textcnn, embed_size: 16, kernel_sizes: [2, 3], num_channels: [8, 8]}
optimizer: {type: adam, lr: 0.01}
train: {epochs: 2, log_every_steps: 5}
tracking: false
${extra}`,
  });
  return loadConfig(join(dir, 'experiment.yaml'), sets.map(parseSetOption));
}

/** Files every finished text run leaves in its run folder (and uploads as artifacts). */
export const TEXT_RUN_FILES = [
  'config.yaml',
  'vocab.txt',
  'metrics.jsonl',
  'summary.json',
  'model/model.json',
  'model/weights.bin',
  'classification_report.json',
  'training_curves.png',
];

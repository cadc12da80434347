import * as tf from '@tensorflow/tfjs';
import { datasets } from '../../components/dataset/index.ts';
import { models } from '../../components/model/index.ts';
import { optimizers } from '../../components/optimizer/index.ts';
import { tokenizers } from '../../components/tokenizer/index.ts';
import type { ExperimentConfig } from '../config/schema.ts';
import { encodeTextDataset, type EncodedTextData } from '../data/text-pipeline.ts';
import type { BuildContext } from '../registry.ts';
import { GroupedOptimizer } from '../train/optimizer.ts';
import { resolveParamGroups, type ParamGroupPlan } from '../train/param-groups.ts';

/** Everything a config builds before training: data, model, optimizer and its groups. */
export interface BuiltExperiment {
  data: EncodedTextData;
  model: tf.LayersModel;
  optimizer: GroupedOptimizer;
  plan: ParamGroupPlan;
  /** Seconds spent reading and encoding the data. */
  dataSeconds: number;
}

/** Builds the config's components in order: dataset → tokenizer → vocab → model → optimizer groups. */
export async function buildExperiment(config: ExperimentConfig, context: BuildContext): Promise<BuiltExperiment> {
  const start = performance.now();
  const dataset = await datasets.build(config.data.dataset, context);
  const tokenizer = tokenizers.build(config.data.tokenizer ?? { type: 'whitespace' }, context);
  const data = encodeTextDataset(dataset, tokenizer, {
    minFreq: config.data.vocab.min_freq,
    maxSize: config.data.vocab.max_size,
    maxLen: config.data.max_len,
  });
  const dataSeconds = (performance.now() - start) / 1000;
  const model = models.build(config.model, { vocabSize: data.vocab.size, numClasses: data.classes.length, maxLen: data.maxLen });
  try {
    const spec = optimizers.build(config.optimizer, context);
    const plan = resolveParamGroups(model, { lr: spec.lr, weightDecay: spec.weightDecay, groups: spec.paramGroups });
    return { data, model, optimizer: new GroupedOptimizer(spec.rule, plan.groups), plan, dataSeconds };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/** `--dry-run` text: model summary and each parameter group with its variables. */
export function describeBuilt(built: BuiltExperiment): string {
  const lines: string[] = [];
  built.model.summary(100, undefined, (line: string) => lines.push(line));
  lines.push('', `data: ${built.data.train.count} training and ${built.data.test.count} test examples, ` +
    `${built.data.classes.length} classes (${built.data.classes.join(', ')}), vocabulary ${built.data.vocab.size}, max_len ${built.data.maxLen}`);
  lines.push('', 'parameter groups:');
  for (const group of built.plan.groups) {
    const count = group.variables.reduce((n, v) => n + v.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0);
    const how = group.trainable ? `lr ${group.lr}, weight_decay ${group.weightDecay}` : 'frozen (trainable: false)';
    lines.push(`  ${group.name}: ${how}; ${group.variables.length} variables, ${count} parameters`);
    for (const v of group.variables) lines.push(`    ${v.originalName} [${v.shape.join(', ')}]`);
  }
  if (built.plan.frozenLayers.length > 0) {
    lines.push('  frozen layers (never updated):');
    for (const v of built.plan.frozenLayers) lines.push(`    ${v.originalName} [${v.shape.join(', ')}]`);
  }
  return lines.join('\n');
}

/**
 * The static check: every problem of a schema-valid config that can be known before any training data loads, all at
 * once and located at config keys. Used by `runner validate`, `runner sweep --dry-run` (every trial), `runner watch`
 * (before it stops the current run) and the start of `runner run`.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageShape } from '../../components/augmentation/augmentation.ts';
import { squareSize, type SizeValue } from '../../components/augmentation/augmentation.ts';
import { datasets } from '../../components/dataset/index.ts';
import { freezeEmbeddingLayers } from '../../components/embedding/apply.ts';
import { embeddings } from '../../components/embedding/index.ts';
import { models } from '../../components/model/index.ts';
import { optimizers } from '../../components/optimizer/index.ts';
import { schedules } from '../../components/schedule/index.ts';
import { tokenizers } from '../../components/tokenizer/index.ts';
import { ConfigDiagnosticsError } from '../config/diagnostics.ts';
import { ConfigError, ConfigKeyError, type ConfigIssue, type ConfigPath } from '../config/issues.ts';
import type { LoadedConfig } from '../config/load.ts';
import { withoutNestedSlots, type ComponentConfig, type ExperimentConfig } from '../config/schema.ts';
import { buildAugmentations, stepsOfKind } from '../data/augment.ts';
import { ImagePipeline } from '../data/image-pipeline.ts';
import { UserError } from '../errors.ts';
import type { CheckContext, Registry } from '../registry.ts';
import { compileParamGroups, resolveParamGroups, type ParamGroupConfig } from '../train/param-groups.ts';

/** Vocabulary size of the placeholder build (specials plus a few words): the model's variable names do not depend on it. */
const PLACEHOLDER_VOCAB_SIZE = 16;

/** The config without what belongs to a sweep; the static check reads only the experiment. */
type CheckedConfig = Omit<ExperimentConfig, 'sweep'>;

/**
 * Every problem of `config` (validated: defaults applied, paths resolved) that needs no training data: each
 * component's `check` (cross-field rules, files that must exist), augmentation steps and the image shapes through
 * them, the model built on a placeholder vocabulary without data (input shapes it cannot take, a pretrained
 * `cut_at`) and `param_groups` resolved against its variables. Errors and warnings (severity 'warning'), in config
 * order of the sections checked.
 */
export async function checkExperiment(config: CheckedConfig, configDir: string): Promise<ConfigIssue[]> {
  const issues: ConfigIssue[] = [];
  const context: CheckContext = { configDir };
  const data = config.data;
  const add = (prefix: ConfigPath, found: ConfigIssue[]) => issues.push(...found.map((i) => ({ ...i, path: [...prefix, ...i.path] })));
  add(['data', 'dataset'], checkComponent(datasets, data.dataset, context));
  if (data.tokenizer) add(['data', 'tokenizer'], checkComponent(tokenizers, data.tokenizer, context));
  if (data.embedding) add(['data', 'embedding'], checkComponent(embeddings, data.embedding, context));
  const inputShape = checkInputs(config, configDir, issues);
  const modelIssues = checkComponent(models, config.model, { ...context, inputShape });
  add(['model'], modelIssues);
  add(['optimizer'], checkComponent(optimizers, withoutNestedSlots('optimizer', config.optimizer), context));
  const schedule = config.optimizer.schedule as ComponentConfig | undefined;
  if (schedule) add(['optimizer', 'schedule'], checkComponent(schedules, schedule, context));
  const groups = (config.optimizer.param_groups ?? []) as ParamGroupConfig[];
  const buildable = inputShape !== undefined && !modelIssues.some((i) => i.severity !== 'warning');
  issues.push(...(buildable ? await checkParamGroups(config, inputShape, groups) : patternIssues(groups)));
  return issues;
}

/**
 * Runs the static check on a loaded config and throws every error it finds as located diagnostics (file:line:col,
 * code frames); returns the warnings, located.
 */
export async function assertStaticallyValid(loaded: LoadedConfig): Promise<ReturnType<LoadedConfig['locate']>> {
  const issues = await checkExperiment(loaded.config, loaded.file.replace(/[/\\][^/\\]*$/, ''));
  const errors = issues.filter((i) => i.severity !== 'warning');
  if (errors.length > 0) throw new ConfigDiagnosticsError(loaded.locate(errors));
  return loaded.locate(issues.filter((i) => i.severity === 'warning'));
}

/** A component's own `check`, any unexpected failure of it reported at the component rather than thrown. */
function checkComponent<Built, Context>(registry: Registry<Built, Context>, config: ComponentConfig, context: CheckContext): ConfigIssue[] {
  try {
    return registry.check(config, context);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    return [{ path: [], message: error.message }];
  }
}

/**
 * The shape of one input example as the model will see it ([max_len] for text; for images the stored size through
 * the augmentation steps, training and evaluation paths agreeing), pushing the problems of `data.augmentation` onto
 * `issues`; undefined when a problem leaves it unknown.
 */
function checkInputs(config: CheckedConfig, configDir: string, issues: ConfigIssue[]): number[] | undefined {
  const imageSize = (config.data.dataset as { image_size?: SizeValue }).image_size;
  const steps = config.data.augmentation ?? [];
  try {
    const built = buildAugmentations(steps, { configDir, warn: () => {} });
    if (imageSize === undefined) {
      stepsOfKind(built, 'text');
      return [config.data.max_len];
    }
    const stored: ImageShape = [...squareSize(imageSize), 3];
    return ImagePipeline.compose(stepsOfKind(built, 'image'), stored).outputShape;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    issues.push(...error.issues);
    return undefined;
  }
}

/** Problems of the `match` patterns alone (when the model cannot be built to resolve the groups against). */
function patternIssues(groups: ParamGroupConfig[]): ConfigIssue[] {
  const errors: ConfigIssue[] = [];
  compileParamGroups(groups, errors);
  return errors;
}

/**
 * Builds the model on placeholder data (a small vocabulary, the configured or two classes, no pretrained weights read)
 * on the current tfjs backend, resolves `param_groups` against its variables and releases it. A model the inputs
 * cannot feed is an error at `model`.
 */
async function checkParamGroups(config: CheckedConfig, inputShape: number[], groups: ParamGroupConfig[]): Promise<ConfigIssue[]> {
  const text = inputShape.length === 1;
  const classes = (config.data.dataset as { classes?: string[] }).classes;
  let model: tf.LayersModel;
  const prod = tf.env().getBool('PROD');
  tf.env().set('PROD', true); // no "install the node backend" banner from the pure-JS backend: nothing trains here
  try {
    model = await models.build(config.model, {
      numClasses: classes?.length ?? 2,
      inputShape,
      vocabSize: text ? PLACEHOLDER_VOCAB_SIZE : undefined,
      withoutWeights: true,
    });
  } catch (error) {
    if (error instanceof ConfigKeyError) return error.within(['model']).issues;
    if (error instanceof ConfigError) return error.issues;
    const why =
      error instanceof UserError
        ? error.message
        : `it cannot be built for inputs of shape [${inputShape.join(', ')}]: ${(error as Error).message}`;
    return [{ path: ['model'], message: why }, ...patternIssues(groups)];
  } finally {
    tf.env().set('PROD', prod);
  }
  try {
    if ((config.data.embedding as { freeze?: boolean } | undefined)?.freeze) freezeEmbeddingLayers(model);
    const plan = resolveParamGroups(model, { lr: 1, weightDecay: 0, groups });
    return plan.warnings;
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  } finally {
    model.dispose();
  }
}

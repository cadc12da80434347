import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { Type } from '@sinclair/typebox';
import { FilePath, pathIssues } from '../../runner/config/path.ts';
import { UserError } from '../../runner/errors.ts';
import { closestName, defineComponent, type CheckIssue } from '../../runner/registry.ts';
import { defaultCacheDir, download, partialPath, removeDeadPartials } from '../dataset/download.ts';
import { classifierHead, HeadSchema, imageInput } from './image.ts';
import type { BuiltModel, ModelContext } from './model.ts';

interface ModelJson {
  format?: string;
  modelTopology?: unknown;
  weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

function parseModelJson(text: string, where: string): ModelJson & Required<Pick<ModelJson, 'modelTopology' | 'weightsManifest'>> {
  let json: ModelJson;
  try {
    json = JSON.parse(text) as ModelJson;
  } catch (error) {
    throw new UserError(`${where} is not valid JSON (${(error as Error).message}); expected a TF.js model.json.`);
  }
  if (json.format === 'graph-model') {
    throw new UserError(`${where} is a TF.js GraphModel; the pretrained model needs a LayersModel (Keras topology) to cut and fine-tune.`);
  }
  if (typeof json.modelTopology !== 'object' || json.modelTopology === null || !Array.isArray(json.weightsManifest)) {
    throw new UserError(`${where} is not a TF.js LayersModel model.json (it needs 'modelTopology' and 'weightsManifest').`);
  }
  return json as ReturnType<typeof parseModelJson>;
}

/**
 * Downloads a TF.js LayersModel (model.json and its weight files) into the cache once; later runs
 * load the cached copy. Files go to a temporary folder renamed into place only when complete.
 */
export async function downloadModel(url: string, cacheDir = join(defaultCacheDir(), 'models')): Promise<string> {
  const target = join(cacheDir, createHash('sha256').update(url).digest('hex').slice(0, 16));
  if (existsSync(join(target, 'model.json'))) return target;
  await removeDeadPartials(target);
  const partial = partialPath(target);
  try {
    const source = await download({ url, cacheDir: partial, fileName: 'model.json' });
    const json = parseModelJson(await readFile(source, 'utf8'), url);
    let n = 0;
    const manifest = [];
    for (const group of json.weightsManifest) {
      const paths = [];
      for (const path of group.paths) {
        const name = `weights-${n++}.bin`;
        await download({ url: new URL(path, url).href, cacheDir: partial, fileName: name });
        paths.push(name);
      }
      manifest.push({ ...group, paths });
    }
    await writeFile(join(partial, 'model.json'), JSON.stringify({ ...json, weightsManifest: manifest }));
    await rm(target, { recursive: true, force: true });
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    throw error;
  }
  return target;
}

/** The model.json a local pretrained path names (the file, or model.json in the folder); a UserError when there is none. */
function localModelJson(location: string): string {
  const path = /^file:\/\//i.test(location) ? fileURLToPath(location) : location;
  let isFolder: boolean;
  try {
    isFolder = statSync(path).isDirectory();
  } catch {
    throw new UserError(`The pretrained model ${location} does not exist; expected a model.json, a folder holding one, or an http(s) URL.`);
  }
  const file = isFolder ? join(path, 'model.json') : path;
  if (isFolder && !existsSync(file)) throw new UserError(`The pretrained model folder ${path} has no model.json.`);
  return file;
}

/** A local model.json read and checked: its LayersModel JSON and the weight files it lists (every one present). */
function readLocalModel(location: string): { file: string; json: ReturnType<typeof parseModelJson> } {
  const file = localModelJson(location);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UserError(
      `The pretrained model ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`,
    );
  }
  const json = parseModelJson(text, file);
  for (const group of json.weightsManifest) {
    for (const weightPath of group.paths) {
      const [problem] = pathIssues(join(file, '..', weightPath), [], 'The weight file', 'file');
      if (problem) throw new UserError(problem.message.replace(/\.$/, ` (listed in ${file}).`));
    }
  }
  return { file, json };
}

/** Names of the layers of a Keras / TF.js LayersModel topology (functional or sequential), read from its JSON. */
export function topologyLayers(topology: unknown): { name: string; className: string; config: Record<string, unknown> }[] {
  const root = (topology as { model_config?: unknown }).model_config ?? topology;
  const config = (root as { config?: unknown }).config;
  const layers = Array.isArray(config) ? config : ((config as { layers?: unknown[] } | undefined)?.layers ?? []);
  return layers.map((layer) => {
    const { name, class_name, config: layerConfig } = layer as { name?: string; class_name?: string; config?: Record<string, unknown> };
    return { name: String(name ?? layerConfig?.name ?? ''), className: String(class_name ?? ''), config: layerConfig ?? {} };
  });
}

/**
 * Loads a TF.js LayersModel from a model.json path, a folder holding one, or an http(s)/file URL (downloaded once,
 * cached). `readWeights: false` builds the architecture with zero weights without reading the weight files (the
 * static check's placeholder build).
 */
export async function loadLayersModelFrom(location: string, options: { readWeights?: boolean } = {}): Promise<tf.LayersModel> {
  const local = /^https?:\/\//i.test(location) ? await downloadModel(location) : location;
  const { file, json } = readLocalModel(local);
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  let artifacts: tf.io.ModelArtifacts;
  if (options.readWeights === false) {
    // Zeros of every weight's shape (quantization dropped): tfjs then skips its random initialisation too.
    const plain = specs.map(({ name, shape, dtype }) => ({
      name,
      shape,
      dtype: dtype === 'int32' ? ('int32' as const) : ('float32' as const),
    }));
    const bytes = plain.reduce((n, spec) => n + 4 * spec.shape.reduce((a, b) => a * b, 1), 0);
    artifacts = {
      modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
      weightSpecs: plain,
      weightData: new ArrayBuffer(bytes),
    };
  } else {
    const buffers: Uint8Array[] = [];
    for (const group of json.weightsManifest)
      for (const weightPath of group.paths) buffers.push(await readFile(join(file, '..', weightPath)));
    const weightData = Buffer.concat(buffers);
    artifacts = {
      modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
      weightSpecs: specs,
      weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
    };
  }
  try {
    return await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (error) {
    throw new UserError(`${file} could not be loaded as a TF.js LayersModel: ${(error as Error).message}`, { cause: error });
  }
}

/** What the static check can tell about a local pretrained model from its model.json alone: files, cut_at, input shape. */
function checkPretrained(params: { path: string; cut_at?: string }, inputShape: number[] | undefined): CheckIssue[] {
  if (/^https?:\/\//i.test(params.path)) return [];
  let json: ReturnType<typeof parseModelJson>;
  try {
    json = readLocalModel(params.path).json;
  } catch (error) {
    if (error instanceof UserError) return [{ path: ['path'], message: error.message }];
    throw error;
  }
  const issues: CheckIssue[] = [];
  const layers = topologyLayers(json.modelTopology);
  const names = layers.map((l) => l.name);
  if (params.cut_at !== undefined && !names.includes(params.cut_at)) {
    const closest = closestName(params.cut_at, names);
    issues.push({
      path: ['cut_at'],
      message: `The pretrained model ${params.path} has no layer '${params.cut_at}'` + (closest ? `; did you mean '${closest}'?` : '.'),
      hint: `Its last layers: ${names.slice(-8).join(', ')}.`,
    });
  }
  const inputs = layers.filter((l) => l.className === 'InputLayer');
  const expected = (inputs[0]?.config.batch_input_shape ?? inputs[0]?.config.batchInputShape) as (number | null)[] | undefined;
  if (inputShape?.length === 3 && inputs.length === 1 && expected) {
    const mismatch = inputShapeMismatch(params.path, expected.slice(1), inputShape);
    if (mismatch) issues.push({ path: ['path'], message: mismatch });
  }
  return issues;
}

/** The message for a model taking `expected` (null: any size) while the data pipeline gives `shape`; undefined when they agree. */
function inputShapeMismatch(path: string, expected: (number | null)[], shape: number[]): string | undefined {
  if (expected.length === shape.length && expected.every((d, i) => d === null || d === shape[i])) return undefined;
  return (
    `The pretrained model ${path} takes inputs of shape [${expected.map((d) => d ?? 'any').join(', ')}] but the data ` +
    `pipeline gives [${shape.join(', ')}]; set the image size with data.augmentation (e.g. center_crop / random_resized_crop to its size).`
  );
}

/**
 * Freezes a layer: its weights stop training and a batch-norm layer keeps using its moving
 * statistics even in training steps (what Keras does for non-trainable BatchNormalization).
 */
export function freezeLayer(layer: tf.layers.Layer): void {
  layer.trainable = false;
  if (layer.getClassName() === 'BatchNormalization') {
    const call = layer.call.bind(layer);
    layer.call = (inputs, kwargs) => call(inputs, { ...kwargs, training: false });
  }
}

/** A pretrained TF.js LayersModel, cut at a layer, with a new head; optionally frozen below the head. */
export const pretrained = defineComponent({
  name: 'pretrained',
  summary: 'A pretrained TF.js LayersModel (path or URL), cut at a named layer, with a new head (head_*); the body may be frozen.',
  params: Type.Object(
    {
      path: FilePath({
        description: 'model.json of a TF.js LayersModel, a folder holding it, or an http(s) URL (downloaded once into the cache).',
      }),
      cut_at: Type.Optional(
        Type.String({
          minLength: 1,
          description: "Layer whose output feeds the new head (e.g. MobileNet's global_average_pooling2d_1); default: the model's output.",
        }),
      ),
      head: HeadSchema,
      freeze: Type.Boolean({
        default: false,
        description: 'Freeze every layer below the head (weights fixed, batch norm in inference mode); false fine-tunes everything.',
      }),
    },
    { additionalProperties: false },
  ),
  check(params, context): CheckIssue[] {
    return checkPretrained(params, context.inputShape);
  },
  async build(params, context: ModelContext): Promise<BuiltModel> {
    const shape = imageInput('pretrained', context);
    const base = await loadLayersModelFrom(params.path, { readWeights: !context.withoutWeights });
    const mismatch = inputShapeMismatch(params.path, base.inputs[0]!.shape.slice(1), shape);
    if (base.inputs.length !== 1 || mismatch) throw new UserError(mismatch ?? `The pretrained model ${params.path} has several inputs.`);
    let features = base.outputs[0]!;
    if (params.cut_at !== undefined) {
      const output = base.getLayer(params.cut_at).output;
      if (Array.isArray(output))
        throw new UserError(`Layer '${params.cut_at}' of ${params.path} has several outputs; cut at a layer with one.`);
      features = output;
    }
    const logits = classifierHead(features, context.numClasses, params.head);
    const model = tf.model({ inputs: base.inputs, outputs: logits, name: 'pretrained' });
    const kept = new Set(model.layers);
    for (const layer of base.layers) if (!kept.has(layer)) for (const weight of layer.weights) weight.dispose();
    if (params.freeze) for (const layer of model.layers) if (!layer.name.startsWith('head_')) freezeLayer(layer);
    return model;
  },
});

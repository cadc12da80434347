import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { Type } from '@sinclair/typebox';
import { FilePath } from '../../runner/config/path.ts';
import { UserError } from '../../runner/errors.ts';
import { closestName, defineComponent } from '../../runner/registry.ts';
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

/** Loads a TF.js LayersModel from a model.json path, a folder holding one, or an http(s)/file URL (downloaded once, cached). */
export async function loadLayersModelFrom(location: string): Promise<tf.LayersModel> {
  let path = location;
  if (/^https?:\/\//i.test(location)) path = await downloadModel(location);
  else if (/^file:\/\//i.test(location)) path = fileURLToPath(location);
  let file = path;
  try {
    if ((await stat(path)).isDirectory()) file = join(path, 'model.json');
  } catch {
    throw new UserError(`The pretrained model ${location} does not exist; expected a model.json, a folder holding one, or an http(s) URL.`);
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UserError(`The pretrained model folder ${path} has no model.json.`);
  }
  const json = parseModelJson(text, file);
  const folder = join(file, '..');
  const buffers: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    for (const weightPath of group.paths) {
      try {
        buffers.push(await readFile(join(folder, weightPath)));
      } catch {
        throw new UserError(`The weight file ${join(folder, weightPath)} listed in ${file} is missing.`);
      }
    }
  }
  const weightData = Buffer.concat(buffers);
  try {
    return await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
        weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
        weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
      }),
    );
  } catch (error) {
    throw new UserError(`${file} could not be loaded as a TF.js LayersModel: ${(error as Error).message}`, { cause: error });
  }
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
  async build(params, context: ModelContext): Promise<BuiltModel> {
    const shape = imageInput('pretrained', context);
    const base = await loadLayersModelFrom(params.path);
    const expected = base.inputs[0]!.shape.slice(1);
    if (base.inputs.length !== 1 || expected.some((d, i) => d !== null && d !== shape[i])) {
      throw new UserError(
        `The pretrained model ${params.path} takes inputs of shape [${expected.map((d) => d ?? 'any').join(', ')}] but the data ` +
          `pipeline gives [${shape.join(', ')}]; set the image size with data.augmentation (e.g. center_crop / random_resized_crop to its size).`,
      );
    }
    let features = base.outputs[0]!;
    if (params.cut_at !== undefined) {
      const names = base.layers.map((l) => l.name);
      if (!names.includes(params.cut_at)) {
        const closest = closestName(params.cut_at, names);
        throw new UserError(
          `The pretrained model ${params.path} has no layer '${params.cut_at}'` +
            (closest ? `; did you mean '${closest}'?` : '.') +
            ` Its last layers: ${names.slice(-8).join(', ')}.`,
        );
      }
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

import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { Choice, SizeParam, squareSize } from '../augmentation/augmentation.ts';
import { FilePath, pathIssues } from '../../runner/config/path.ts';
import { locatedAt } from '../../runner/config/issues.ts';
import { UserError } from '../../runner/errors.ts';
import { defineComponent, type BuildContext, type CheckIssue } from '../../runner/registry.ts';
import type { ImageDataset, ImageSplit } from '../../runner/data/types.ts';
import { folderSplitParams, splitFolderIssues, splitFolders } from './folder-params.ts';
import { decodeInto, ImageDecodeError, type Decoder, type Fit } from './image-decode.ts';
import { readTarFile } from './tar.ts';
import { indexLabels } from './text-files.ts';

/** One image file before decoding: its class folder, name, where it is (for messages) and how to get its bytes. */
interface ImageFile {
  label: string;
  name: string;
  where: string;
  read(): Promise<Uint8Array>;
}

type Listing = Record<string, ImageFile[]>;

/** Runs the work on one split: problems with the own validation split are located at its param. */
type AtSplit = <T>(split: string, body: () => Promise<T>) => Promise<T>;

const hidden = (name: string) => name.startsWith('.');

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Lists `<root>/<split>/<class>/<file>` for every split (dotfiles ignored); the root may be one folder down. */
async function listFolder(path: string, splits: string[], warn: (m: string) => void, atSplit: AtSplit): Promise<Listing> {
  let root = path;
  if (!(await isDirectory(join(path, splits[0]!)))) {
    if (!(await isDirectory(path))) throw new UserError(`The image dataset ${path} does not exist (or is not a folder or a .tar archive).`);
    const children = (await readdir(path)).filter((c) => !hidden(c));
    const nested = [];
    for (const child of children) if (await isDirectory(join(path, child, splits[0]!))) nested.push(child);
    if (nested.length !== 1) {
      throw new UserError(
        `The image folder ${path} has no '${splits[0]}' split folder. Expected ${path}/${splits[0]}/<class>/<image> ` +
          `and ${path}/${splits[1]}/<class>/<image> (one subfolder per class), or one folder holding them.`,
      );
    }
    root = join(path, nested[0]!);
  }
  const listing: Listing = {};
  for (const split of splits) listing[split] = await atSplit(split, () => listSplit(root, split, warn));
  return listing;
}

async function listSplit(root: string, split: string, warn: (m: string) => void): Promise<ImageFile[]> {
  const splitDir = join(root, split);
  if (!(await isDirectory(splitDir))) throw new UserError(`The image folder ${root} has no '${split}' split folder (${splitDir}).`);
  const files: ImageFile[] = [];
  for (const label of (await readdir(splitDir)).sort()) {
    if (hidden(label)) continue;
    const classDir = join(splitDir, label);
    if (!(await isDirectory(classDir))) {
      warn(`${join(splitDir, label)} is not a class folder; ignored (images belong in ${splitDir}/<class>/).`);
      continue;
    }
    for (const name of (await readdir(classDir)).sort()) {
      if (hidden(name)) continue;
      const where = join(classDir, name);
      files.push({ label, name, where, read: () => readFile(where) });
    }
  }
  return files;
}

/** Lists the same layout inside a .tar/.tar.gz (streamed once; only the members' compressed bytes are kept). */
async function listArchive(path: string, splits: string[], atSplit: AtSplit): Promise<Listing> {
  const listing: Listing = Object.fromEntries(splits.map((s) => [s, [] as ImageFile[]]));
  const roots = new Set<string>();
  await readTarFile(path, ({ name, data }) => {
    const parts = name.replace(/^\.\//, '').split('/');
    if (parts.length < 3) return;
    const [split, label, file] = parts.slice(-3) as [string, string, string];
    if (!(split in listing) || hidden(label) || hidden(file) || file === '') return;
    roots.add(parts.slice(0, -3).join('/'));
    const bytes = data.slice();
    listing[split]!.push({ label, name: file, where: `${path}:${name}`, read: async () => bytes });
  });
  if (roots.size > 1) {
    throw new UserError(
      `The archive ${path} holds more than one dataset folder (${[...roots].map((r) => `'${r || '.'}'`).join(', ')}); ` +
        `keep one <root>/${splits[0]}/<class>/ and <root>/${splits[1]}/<class>/ layout per archive.`,
    );
  }
  for (const split of splits) {
    await atSplit(split, async () => {
      if (listing[split]!.length > 0) return;
      throw new UserError(
        `The archive ${path} has no images under '${split}/<class>/' (expected e.g. ${split}/cats/0001.jpg, optionally inside one top folder).`,
      );
    });
    listing[split]!.sort((a, b) => (a.label === b.label ? (a.name < b.name ? -1 : 1) : a.label < b.label ? -1 : 1));
  }
  return listing;
}

interface DecodeOptions {
  size: [number, number];
  fit: Fit;
  decoder: Decoder;
  skipBadFiles: boolean;
  warn(message: string): void;
}

/** Decodes a split's files (read in small concurrent chunks) into one byte array; bad files throw or are skipped. */
async function decodeSplit(files: ImageFile[], options: DecodeOptions): Promise<{ pixels: Uint8Array; kept: ImageFile[] }> {
  const imageBytes = options.size[0] * options.size[1] * 3;
  const pixels = new Uint8Array(files.length * imageBytes);
  const kept: ImageFile[] = [];
  const skipped: string[] = [];
  const chunk = 32;
  for (let start = 0; start < files.length; start += chunk) {
    const group = files.slice(start, start + chunk);
    const contents = await Promise.all(group.map((f) => f.read()));
    group.forEach((file, i) => {
      try {
        decodeInto(
          contents[i]!,
          pixels.subarray(kept.length * imageBytes, (kept.length + 1) * imageBytes),
          options.size,
          options.fit,
          options.decoder,
        );
        kept.push(file);
      } catch (error) {
        if (!(error instanceof ImageDecodeError)) throw error;
        if (!options.skipBadFiles) {
          throw new UserError(
            `${file.where} is ${error.message}. Remove or replace it, or set skip_bad_files: true to skip such files with a warning.`,
          );
        }
        skipped.push(`${file.where} (${error.message})`);
      }
    });
  }
  if (skipped.length > 0) {
    const shown = skipped.slice(0, 5).join('; ');
    options.warn(
      `skipped ${skipped.length} unreadable image file(s): ${shown}${skipped.length > 5 ? `; and ${skipped.length - 5} more` : ''}`,
    );
  }
  return { pixels: pixels.subarray(0, kept.length * imageBytes), kept };
}

/** Keeps the first `max` files of each class (files are in class, then name order). */
function limitPerClass(files: ImageFile[], max: number | undefined): ImageFile[] {
  if (max === undefined) return files;
  const seen = new Map<string, number>();
  return files.filter((f) => {
    const n = seen.get(f.label) ?? 0;
    seen.set(f.label, n + 1);
    return n < max;
  });
}

/** Images in one subfolder per class under train/ and test/, from a folder or a .tar/.tar.gz archive. */
export const imageFolder = defineComponent({
  name: 'image_folder',
  summary:
    'JPEG/PNG images in one subfolder per class under train/ and test/ (and optionally val/), from a folder or a .tar/.tar.gz archive.',
  params: Type.Object(
    {
      path: FilePath({
        description: 'A folder holding train/<class>/ and test/<class>/ (or one folder that does), or a .tar/.tar.gz/.tgz archive of it.',
      }),
      image_size: SizeParam('Size every image is stored at after decoding: one number for a square, or [height, width].', 256),
      fit: Choice(['crop', 'stretch'], {
        default: 'crop',
        description:
          'crop: scale the shorter side to fit and cut the centre (keeps the aspect ratio); stretch: resize to the size exactly.',
      }),
      ...folderSplitParams,
      max_per_class: Type.Optional(
        Type.Integer({ minimum: 1, description: 'Use only the first N images (by file name) of each class in each split (quick runs).' }),
      ),
      skip_bad_files: Type.Boolean({
        default: false,
        description: 'Skip corrupt or non-image files with a warning instead of stopping with an error that names them.',
      }),
      decoder: Choice(['auto', 'js'], {
        default: 'auto',
        description: "auto: TensorFlow's decoders on the native backend, else the pure-JS ones (jpeg-js, pngjs); js: always pure JS.",
      }),
    },
    { additionalProperties: false },
  ),
  check(params): CheckIssue[] {
    return [...pathIssues(params.path, ['path'], 'The image_folder dataset'), ...splitFolderIssues(params)];
  },
  async build(params, context: BuildContext): Promise<ImageDataset> {
    const splits = splitFolders(params);
    const atSplit: AtSplit = (split, body) => (split === params.validation_split ? locatedAt(['validation_split'], body) : body());
    const archive = /\.(tar|tar\.gz|tgz)$/i.test(params.path);
    const listing = archive
      ? await listArchive(params.path, splits, atSplit)
      : await listFolder(params.path, splits, context.warn, atSplit);
    const size = squareSize(params.image_size);
    const options: DecodeOptions = {
      size,
      fit: params.fit,
      decoder: params.decoder,
      skipBadFiles: params.skip_bad_files,
      warn: (m) => context.warn(`${params.path}: ${m}`),
    };
    const decoded: Record<string, { pixels: Uint8Array; kept: ImageFile[] }> = {};
    for (const split of splits) {
      decoded[split] = await atSplit(split, async () => {
        const files = limitPerClass(listing[split]!, params.max_per_class);
        const result = await decodeSplit(files, options);
        const present = new Set(files.map((f) => f.label));
        const emptied = [...present].filter((label) => !result.kept.some((f) => f.label === label));
        if (files.length === 0 || emptied.length > 0) {
          throw new UserError(
            `The image dataset ${params.path}: the '${split}' split has no readable images` +
              (emptied.length > 0 ? ` in class folder(s) ${emptied.map((l) => `'${l}'`).join(', ')}` : '') +
              '. Each class folder needs at least one JPEG or PNG image.',
          );
        }
        return result;
      });
    }
    const asTable = (split: string) => ({
      texts: decoded[split]!.kept.map((f) => f.where),
      labels: decoded[split]!.kept.map((f) => f.label),
    });
    const validationSplit = params.validation_split;
    const own = validationSplit === undefined ? undefined : { split: asTable(validationSplit), key: 'validation_split' };
    const indexed = indexLabels(
      asTable(params.train_split),
      asTable(params.test_split),
      `The image dataset ${params.path}`,
      params.classes,
      own,
    );
    const split = (name: string, labels: Int32Array): ImageSplit => ({
      pixels: decoded[name]!.pixels,
      labels,
      files: decoded[name]!.kept.map((f) => f.where),
    });
    return {
      kind: 'image',
      source: params.path,
      classes: indexed.classes,
      imageShape: [size[0], size[1], 3],
      train: split(params.train_split, indexed.train.labels),
      test: split(params.test_split, indexed.test.labels),
      ...(validationSplit !== undefined && {
        validation: split(validationSplit, indexed.validation!.labels),
        validationSource: `split ${validationSplit}`,
      }),
    };
  },
});

import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { FilePath, pathIssues } from '../../runner/config/path.ts';
import { UserError } from '../../runner/errors.ts';
import { defineComponent, type BuildContext, type CheckIssue } from '../../runner/registry.ts';
import type { TextDataset, TextSplit } from '../../runner/data/types.ts';
import { defaultCacheDir, download } from './download.ts';
import { decodeText, readTextFiles, stripNewlines } from './text-files.ts';
import { readTarFile } from './tar.ts';

/** The official archive of the Large Movie Review Dataset (Maas et al., 2011). */
export const IMDB_URL = 'https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz';
/** SHA-256 of the official `aclImdb_v1.tar.gz` (84,125,825 bytes). */
export const IMDB_SHA256 = 'c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe';
/** Label order: index 0 = neg, 1 = pos (the lesson's labels). */
export const IMDB_CLASSES = ['neg', 'pos'] as const;
const SPLITS = ['train', 'test'] as const;

type Split = (typeof SPLITS)[number];
type Label = (typeof IMDB_CLASSES)[number];
type Files = Record<Split, Record<Label, { file: string; text: string }[]>>;

// <top>/{train,test}/{pos,neg}/<id>_<rating>.txt; the top folder (aclImdb/) is optional.
const MEMBER = /^(?:\.\/)?(?:[^/]+\/)?(train|test)\/(pos|neg)\/([^/]+\.txt)$/;

function emptyFiles(): Files {
  return { train: { neg: [], pos: [] }, test: { neg: [], pos: [] } };
}

/** Reads the labelled reviews straight out of the archive (streamed; nothing is extracted). */
async function readArchive(path: string): Promise<Files> {
  const files = emptyFiles();
  await readTarFile(path, ({ name, data }) => {
    const match = MEMBER.exec(name);
    if (!match) return; // README, train/unsup, *.feat, url lists
    const [, split, label, file] = match as unknown as [string, Split, Label, string];
    files[split][label].push({ file, text: decodeText(data, `${path}:${name}`) });
  });
  return files;
}

/** Reads the labelled reviews from an extracted folder (`aclImdb/` itself or the folder holding it). */
async function readFolder(path: string): Promise<Files> {
  const root = (await isDirectory(join(path, 'aclImdb', 'train'))) ? join(path, 'aclImdb') : path;
  const files = emptyFiles();
  for (const split of SPLITS) {
    for (const label of IMDB_CLASSES) {
      const dir = join(root, split, label);
      let names: string[];
      try {
        names = (await readdir(dir)).filter((name) => name.endsWith('.txt'));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        names = [];
      }
      const texts = await readTextFiles(names.map((name) => join(dir, name)));
      files[split][label] = names.map((file, i) => ({ file, text: texts[i]! }));
    }
  }
  return files;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Both splits in a fixed order (neg then pos, files sorted by name), with the lesson's preprocessing. */
function toDataset(files: Files, source: string): TextDataset {
  const split = (name: Split): TextSplit => {
    const texts: string[] = [];
    const labels: number[] = [];
    IMDB_CLASSES.forEach((label, index) => {
      const entries = files[name][label];
      if (entries.length === 0) {
        throw new UserError(
          `${source} has no reviews in ${name}/${label}/: expected the Stanford layout aclImdb/{train,test}/{pos,neg}/*.txt. ` +
            'Point path at the aclImdb_v1.tar.gz archive or at the extracted aclImdb folder.',
        );
      }
      entries.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
      for (const entry of entries) {
        texts.push(entry.text.includes('\n') ? stripNewlines(entry.text) : entry.text); // the lesson drops newlines
        labels.push(index);
      }
    });
    return { texts, labels: Int32Array.from(labels) };
  };
  return { kind: 'text', classes: [...IMDB_CLASSES], train: split('train'), test: split('test'), source };
}

/** Loads the IMDb reviews from a folder, an archive, or the official URL (cached, checksum verified). */
export async function loadImdb(
  params: { path?: string; download: boolean; url: string; sha256?: string; cache_dir?: string },
  context: Pick<BuildContext, 'warn'> & { log?(message: string): void },
): Promise<TextDataset> {
  const [problem] = imdbSourceIssues(params);
  if (problem) throw new UserError(problem.message);
  let path = params.path;
  if (params.download) {
    const sha256 = params.sha256 ?? (params.url === IMDB_URL ? IMDB_SHA256 : undefined);
    path = await download({
      url: params.url,
      sha256,
      cacheDir: params.cache_dir ?? join(defaultCacheDir(), 'datasets'),
      log: context.log,
      warn: context.warn,
    });
  }
  if (path === undefined) throw new Error('unreachable: imdbSourceIssues requires path or download');
  let isFolder: boolean;
  try {
    isFolder = (await stat(path)).isDirectory();
  } catch {
    throw new UserError(
      `The imdb dataset's path ${path} does not exist. Point it at aclImdb_v1.tar.gz or the extracted aclImdb folder, or set download: true.`,
    );
  }
  return toDataset(isFolder ? await readFolder(path) : await readArchive(path), path);
}

/** The problem with where the imdb dataset comes from (path and download both or neither, a path that does not exist), or []. */
function imdbSourceIssues(params: { path?: string; download: boolean }): CheckIssue[] {
  if (params.download && params.path !== undefined) {
    return [
      {
        path: ['download'],
        message: 'The imdb dataset has both path and download: true; give one: path to a local copy, or download: true to fetch it.',
      },
    ];
  }
  if (params.download) return [];
  if (params.path === undefined) {
    return [
      {
        path: [],
        message: 'The imdb dataset needs path (the aclImdb_v1.tar.gz archive or the extracted aclImdb folder) or download: true.',
      },
    ];
  }
  return pathIssues(params.path, ['path'], "The imdb dataset's path").map((issue) => ({
    ...issue,
    hint: 'Point it at aclImdb_v1.tar.gz or the extracted aclImdb folder, or set download: true.',
  }));
}

/** Stanford's Large Movie Review Dataset (aclImdb): folder, .tar.gz read in place, or download. */
export const imdb = defineComponent({
  name: 'imdb',
  summary: 'IMDb reviews (aclImdb): from the folder, straight from the .tar.gz, or downloaded; classes neg, pos.',
  params: Type.Object(
    {
      path: Type.Optional(
        FilePath({
          description: 'aclImdb_v1.tar.gz (read in place, nothing extracted), or the extracted aclImdb folder (or its parent).',
        }),
      ),
      download: Type.Boolean({
        default: false,
        description: 'Download the archive from url into cache_dir (once; checksum verified) instead of reading path.',
      }),
      url: Type.String({ pattern: '^(https?|file)://', default: IMDB_URL, description: 'Where download: true fetches the archive.' }),
      sha256: Type.Optional(
        Type.String({
          pattern: '^[0-9a-fA-F]{64}$',
          description: "Expected SHA-256 of the downloaded archive (default: the official archive's digest when url is the official one).",
        }),
      ),
      cache_dir: Type.Optional(
        FilePath({ description: 'Folder for downloads (default: $RUNNER_CACHE_DIR, else ~/.cache/runner, + /datasets).' }),
      ),
    },
    { additionalProperties: false },
  ),
  check: imdbSourceIssues,
  build(params, context): Promise<TextDataset> {
    return loadImdb(params, { warn: context.warn, log: (m) => process.stderr.write(`${m}\n`) });
  },
});

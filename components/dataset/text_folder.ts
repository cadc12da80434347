import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { UserError } from '../../runner/errors.ts';
import { defineComponent, type CheckIssue } from '../../runner/registry.ts';
import type { TextDataset } from '../../runner/data/types.ts';
import { folderSplitParams, splitFolderIssues, splitFolders } from './folder-params.ts';
import { readTextDataset, readTextFiles, stripNewlines } from './text-files.ts';
import { FilePath, pathIssues } from '../../runner/config/path.ts';

async function listDirectory(path: string, what: string): Promise<string[]> {
  try {
    return (await readdir(path)).sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${what} ${path} does not exist.`);
    if (code === 'ENOTDIR') throw new UserError(`${what} ${path} is not a folder.`);
    throw error;
  }
}

async function readSplit(root: string, split: string, extension: string) {
  const splitDir = join(root, split);
  const entries = await listDirectory(splitDir, `The '${split}' split folder`);
  const classDirs: string[] = [];
  for (const entry of entries) if ((await stat(join(splitDir, entry))).isDirectory()) classDirs.push(entry);
  if (classDirs.length === 0) {
    throw new UserError(`The '${split}' split folder ${splitDir} has no class subfolders; expected e.g. ${split}/pos and ${split}/neg.`);
  }
  const paths: string[] = [];
  const labels: string[] = [];
  for (const label of classDirs) {
    const files = (await listDirectory(join(splitDir, label), 'The class folder')).filter((f) => f.endsWith(extension));
    if (files.length === 0) throw new UserError(`The class folder ${join(splitDir, label)} has no *${extension} files.`);
    for (const file of files) {
      paths.push(join(splitDir, label, file));
      labels.push(label);
    }
  }
  const texts = (await readTextFiles(paths)).map(stripNewlines);
  return { texts, labels };
}

/** Text files in one subfolder per class, under `train/` and `test/` (e.g. aclImdb's layout). */
export const textFolder = defineComponent({
  name: 'text_folder',
  summary: 'Text files in one subfolder per class under train/ and test/ (and optionally val/; aclImdb layout).',
  params: Type.Object(
    {
      path: FilePath({ description: 'Folder holding the train/ and test/ split folders.' }),
      extension: Type.String({ default: '.txt', description: 'Only files ending with this are read.' }),
      ...folderSplitParams,
    },
    { additionalProperties: false },
  ),
  check(params): CheckIssue[] {
    return [...pathIssues(params.path, ['path'], 'The text_folder dataset', 'folder'), ...splitFolderIssues(params)];
  },
  async build(params): Promise<TextDataset> {
    const [trainSplit, testSplit, validationSplit] = splitFolders(params);
    const read = (split: string) => () => readSplit(params.path, split, params.extension);
    return readTextDataset({
      source: params.path,
      where: `Dataset ${params.path}`,
      classes: params.classes,
      train: read(trainSplit!),
      test: read(testSplit!),
      validation:
        validationSplit === undefined
          ? undefined
          : { key: 'validation_split', source: `split ${validationSplit}`, read: read(validationSplit) },
    });
  },
});

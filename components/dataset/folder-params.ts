import { Type } from '@sinclair/typebox';
import { ConfigKeyError, type ConfigIssue } from '../../runner/config/issues.ts';

/** The params of datasets laid out as `<split>/<class>/<file>`: split folder names and the class order. */
export const folderSplitParams = {
  train_split: Type.String({ default: 'train', description: 'Name of the training split folder.' }),
  test_split: Type.String({ default: 'test', description: 'Name of the test split folder.' }),
  validation_split: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        "Name of the dataset's own validation split folder beside the train and test folders (e.g. val, as in torchvision's " +
        'ImageFolder layouts); same classes as train. Default: none (data.validation can hold one out of train instead).',
    }),
  ),
  classes: Type.Optional(
    Type.Array(Type.String(), {
      minItems: 2,
      uniqueItems: true,
      description: 'Class folder names in label-index order (default: sorted).',
    }),
  ),
};

/** The problem with the split folder names (a validation split named like the train or test split), or []. */
export function splitFolderIssues(params: { train_split: string; test_split: string; validation_split?: string }): ConfigIssue[] {
  const { train_split: train, test_split: test, validation_split: validation } = params;
  if (validation === undefined || (validation !== train && validation !== test)) return [];
  return [
    {
      path: ['validation_split'],
      message: `the validation split folder '${validation}' is also the ${validation === train ? 'training' : 'test'} split folder.`,
      hint: 'Name a separate folder (e.g. val), or use data.validation to hold out part of the training split.',
    },
  ];
}

/**
 * The split folders to read: train, test and the own validation split when given. A validation
 * split named like train or test is a ConfigKeyError at `validation_split`.
 */
export function splitFolders(params: { train_split: string; test_split: string; validation_split?: string }): string[] {
  const [issue] = splitFolderIssues(params);
  if (issue) throw new ConfigKeyError(issue.path, issue.message, issue.hint);
  const { train_split: train, test_split: test, validation_split: validation } = params;
  return validation === undefined ? [train, test] : [train, test, validation];
}

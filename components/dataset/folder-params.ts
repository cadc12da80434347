import { Type } from '@sinclair/typebox';

/** The params of datasets laid out as `<split>/<class>/<file>`: split folder names and the class order. */
export const folderSplitParams = {
  train_split: Type.String({ default: 'train', description: 'Name of the training split folder.' }),
  test_split: Type.String({ default: 'test', description: 'Name of the test split folder.' }),
  classes: Type.Optional(
    Type.Array(Type.String(), {
      minItems: 2,
      uniqueItems: true,
      description: 'Class folder names in label-index order (default: sorted).',
    }),
  ),
};

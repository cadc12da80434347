import type { DatasetInfo } from '../data/dataset-info.ts';
import type { DatasetInput } from './client.ts';

/**
 * MLflow dataset inputs of a dataset: one per split (context train, validation, test; or `context` for all of
 * `splits`), each with the dataset's name, digest and source, and the split's size as its profile.
 */
export function datasetInputs(info: DatasetInfo, options: { splits?: string[]; context?: string } = {}): DatasetInput[] {
  const splits = options.splits ?? Object.keys(info.splits);
  return splits.map((split) => ({
    context: options.context ?? split,
    name: splits.length > 1 || options.context ? `${info.name}-${split}` : info.name,
    digest: info.digest,
    sourceType: /^https?:/.test(info.source) ? 'http' : 'local',
    source: JSON.stringify({ uri: info.source }),
    schema: JSON.stringify({ classes: info.classes }),
    profile: JSON.stringify({ num_rows: info.splits[split] ?? 0, split, dataset_type: info.type }),
  }));
}

/** One split of a text classification dataset, columnar: texts[i] has label labels[i]. */
export interface TextSplit {
  /** Raw texts (the dataset's own preprocessing applied, nothing else). */
  texts: string[];
  /** Class index of each text (an index into the dataset's `classes`). */
  labels: Int32Array;
}

/** A text classification dataset with both splits loaded. */
export interface TextDataset {
  kind: 'text';
  /** Class names in the stable, logged order that defines label indices. */
  classes: string[];
  train: TextSplit;
  test: TextSplit;
  /** Where it came from, for logs (a path, an archive, a URL). */
  source: string;
}

/** What any dataset component builds. */
export type Dataset = TextDataset;

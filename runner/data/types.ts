import type { BatchSource } from './batches.ts';
import type { Vocab } from './vocab.ts';

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
  /** A validation split: the dataset's own, or held out of `train` (see `validationSource`). */
  validation?: TextSplit;
  /** How the validation split was made, for logs (e.g. `split val`). */
  validationSource?: string;
  /** Where it came from, for logs (a path, an archive, a URL). */
  source: string;
}

/** One split of an image dataset: decoded pixels, all images the same size, uint8, row-major `[count, h, w, c]`. */
export interface ImageSplit {
  pixels: Uint8Array;
  /** Class index of each image. */
  labels: Int32Array;
  /** Where each image came from (file path, or archive:member), for messages. */
  files: string[];
}

/** An image classification dataset with both splits decoded and fitted to one size. */
export interface ImageDataset {
  kind: 'image';
  /** Class names in the stable, logged order that defines label indices. */
  classes: string[];
  /** `[height, width, channels]` of every stored image. */
  imageShape: [number, number, number];
  train: ImageSplit;
  test: ImageSplit;
  /** A validation split: the dataset's own, or held out of `train` (see `validationSource`). */
  validation?: ImageSplit;
  /** How the validation split was made, for logs (e.g. `split val`). */
  validationSource?: string;
  /** Where it came from, for logs (a folder, an archive). */
  source: string;
}

/** What any dataset component builds. */
export type Dataset = TextDataset | ImageDataset;

/** A dataset made ready for training: batch sources per split and what models need to know. */
export interface PreparedData {
  classes: string[];
  /** Shape of one example as the model sees it (e.g. [max_len] for token ids). */
  inputShape: number[];
  /** The vocabulary, for text data. */
  vocab?: Vocab;
  train: BatchSource;
  /** Held out for model selection (best epoch, early stopping, sweeps; evaluation batches only: never augmented); absent without a validation split. */
  validation?: BatchSource;
  /** How the validation split was made, for logs: `split val`, `fraction 0.1 of train (stratified, seed 0)`. */
  validationSource?: string;
  test: BatchSource;
  /** Seconds spent reading and preparing the data. */
  dataSeconds: number;
  /** What identifies the dataset (name, source, digest, split sizes), for MLflow's dataset inputs. */
  dataset?: DatasetInfo;
  /** What this kind of data adds to a run's record (files, log lines); a run calls it without knowing the kind. */
  runRecord?: DataRunRecord;
}

/** What a run lends its data's record: its run folder (all of it is logged as artifacts), its log and its seed. */
export interface RunFolderWriter {
  /** The run's seed. */
  seed: number;
  /** Writes a file into the run folder. */
  writeFile(name: string, contents: string | Uint8Array): void;
  /** Writes a JSON file into the run folder (pretty-printed). */
  writeJson(name: string, value: unknown): void;
  /** Logs one line. */
  info(message: string): void;
}

/** A kind of data's part in a run's record (text: the vocabulary; images: the augmentation grid and data-wait share). */
export interface DataRunRecord {
  /** Words added to the run's data log line, e.g. "vocabulary 20000". */
  details?: string;
  /** Lines that say how the data is prepared (e.g. the augmentation steps), for `--dry-run` and the run's log. */
  preparation?: string[];
  /** Called before training: writes the data's files and log lines. */
  beforeTraining?(run: RunFolderWriter): void;
  /** Called after training with the epoch records: writes what was measured during it. */
  afterTraining?(run: RunFolderWriter, epochs: readonly object[]): void;
}

/** What identifies the data a run used: for MLflow's dataset inputs and evaluation records. */
export interface DatasetInfo {
  /** A short name: the dataset's folder or file name. */
  name: string;
  /** The dataset component that read it. */
  type: string;
  /** Where it came from (a path, an archive, a URL). */
  source: string;
  /** sha256 (first 16 hex digits) of the classes and every split's examples and labels: the version of the data. */
  digest: string;
  classes: string[];
  /** Examples per split (train, validation when there is one, test). */
  splits: Record<string, number>;
}

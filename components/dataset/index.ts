import { Registry } from '../../runner/registry.ts';
import type { Dataset } from '../../runner/data/types.ts';
import { imageFolder } from './image_folder.ts';
import { imdb } from './imdb.ts';
import { textFolder } from './text_folder.ts';
import { textTable } from './text_table.ts';

/** Registered datasets (`data.dataset.type`); builders load both splits. */
export const datasets = new Registry<Promise<Dataset>>('dataset').register(textFolder, textTable, imdb, imageFolder);

/** The folder of a run folder that holds its checkpoints (`last`, `best`): training state for `--resume`, never uploaded. */
export const CHECKPOINTS_DIR = 'checkpoints';

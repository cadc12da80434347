import { Registry } from '../../runner/registry.ts';
import type { Augmentation } from './augmentation.ts';
import { centerCrop } from './center_crop.ts';
import { colorJitter } from './color_jitter.ts';
import { normalize } from './normalize.ts';
import { randomHorizontalFlip } from './random_horizontal_flip.ts';
import { randomMask } from './random_mask.ts';
import { randomResizedCrop } from './random_resized_crop.ts';
import { randomSwap } from './random_swap.ts';
import { randomVerticalFlip } from './random_vertical_flip.ts';
import { resize } from './resize.ts';
import { tokenDropout } from './token_dropout.ts';

/** Registered augmentation steps (`data.augmentation[]`): image steps, then text steps. */
export const augmentations = new Registry<Augmentation>('augmentation').register(
  randomHorizontalFlip,
  randomVerticalFlip,
  randomResizedCrop,
  colorJitter,
  resize,
  centerCrop,
  normalize,
  tokenDropout,
  randomSwap,
  randomMask,
);

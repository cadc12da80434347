import { Registry } from '../../runner/registry.ts';
import { basic } from './basic.ts';
import type { Tokenizer } from './tokenizer.ts';
import { whitespace } from './whitespace.ts';

/** Registered tokenizers (`data.tokenizer.type`). */
export const tokenizers = new Registry<Tokenizer>('tokenizer').register(whitespace, basic);

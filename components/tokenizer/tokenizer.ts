import { Type } from '@sinclair/typebox';

/** Turns one text into its tokens. */
export interface Tokenizer {
  /** The tokens of `text`, in order. */
  tokenize(text: string): string[];
}

/** The params every tokenizer shares. */
export const TokenizerParams = Type.Object(
  { lowercase: Type.Boolean({ default: true, description: 'Lower-case the text before splitting.' }) },
  { additionalProperties: false },
);

/** Turns one text into its tokens. */
export interface Tokenizer {
  /** The tokens of `text`, in order. */
  tokenize(text: string): string[];
}

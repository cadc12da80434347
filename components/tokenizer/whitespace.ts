import { defineComponent } from '../../runner/registry.ts';
import { TokenizerParams, type Tokenizer } from './tokenizer.ts';

const whitespaceRun = /\s+/;

/** The lesson's word tokenizer: lower-case, newlines removed, split on runs of whitespace. */
export const whitespace = defineComponent({
  name: 'whitespace',
  summary: "The d2l lesson's word tokenizer: lower-cases (optional), removes newlines, splits on whitespace.",
  params: TokenizerParams,
  build({ lowercase }): Tokenizer {
    return {
      tokenize(text) {
        const prepared = lowercase ? text.toLowerCase() : text;
        const tokens = prepared.split(whitespaceRun);
        if (tokens.length > 0 && tokens[0] === '') tokens.shift();
        if (tokens.length > 0 && tokens[tokens.length - 1] === '') tokens.pop();
        return tokens;
      },
    };
  },
});

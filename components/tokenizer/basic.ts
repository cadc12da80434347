import { defineComponent } from '../../runner/registry.ts';
import { TokenizerParams, type Tokenizer } from './tokenizer.ts';

const htmlBreak = /<br\s*\/?>/gi;
// A word (letters, digits, apostrophes inside words) or any single other non-space character.
const wordOrPunctuation = /[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*|[^\s\p{L}\p{N}]/gu;

/** Lower-cased words with punctuation as separate tokens and HTML line breaks removed. */
export const basic = defineComponent({
  name: 'basic',
  summary: 'Lower-cased words and punctuation marks as separate tokens; HTML <br /> removed.',
  params: TokenizerParams,
  build({ lowercase }): Tokenizer {
    return {
      tokenize(text) {
        const cleaned = text.replace(htmlBreak, ' ');
        return (lowercase ? cleaned.toLowerCase() : cleaned).match(wordOrPunctuation) ?? [];
      },
    };
  },
});

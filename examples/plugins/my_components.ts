// A runner plugin: a config names this file under `plugins:` and can then use `type: bag_mlp` and
// `type: char_ngrams`. Its default export lists the components it adds, by kind.
import {
  defineComponent,
  definePlugin,
  textInput,
  tf,
  TokenizerParams,
  Type,
  type ModelContext,
  type Tokenizer,
} from '../../runner/plugin.ts';

/** A bag-of-embeddings MLP over token ids: embedding, mean over the tokens, one hidden layer, logits. */
export const bagMlp = defineComponent({
  name: 'bag_mlp',
  summary: 'Bag-of-embeddings MLP: embedding, mean over tokens, one hidden ReLU layer, dense logits.',
  params: Type.Object(
    {
      embed_size: Type.Integer({ minimum: 1, default: 32, description: 'Width of the token embedding.' }),
      hidden: Type.Integer({ minimum: 1, default: 32, description: 'Units of the hidden layer.' }),
      dropout: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0, description: 'Dropout rate before the classifier.' }),
    },
    { additionalProperties: false },
  ),
  build(params, context: ModelContext) {
    const { vocabSize, maxLen } = textInput('bag_mlp', context);
    const tokens = tf.input({ shape: [maxLen], dtype: 'int32', name: 'tokens' });
    let x = tf.layers
      .embedding({ name: 'embedding', inputDim: vocabSize, outputDim: params.embed_size })
      .apply(tokens) as tf.SymbolicTensor;
    x = tf.layers.globalAveragePooling1d({ name: 'mean' }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.dense({ name: 'hidden', units: params.hidden, activation: 'relu' }).apply(x) as tf.SymbolicTensor;
    if (params.dropout > 0) x = tf.layers.dropout({ name: 'dropout', rate: params.dropout }).apply(x) as tf.SymbolicTensor;
    const logits = tf.layers.dense({ name: 'dense', units: context.numClasses }).apply(x) as tf.SymbolicTensor;
    return tf.model({ inputs: tokens, outputs: logits, name: 'bag_mlp' });
  },
});

/** Character n-grams of each word (`cat` → `<ca`, `cat`, `at>` for n = 3): robust to typos and rare words. */
export const charNgrams = defineComponent({
  name: 'char_ngrams',
  summary: 'Character n-grams of every whitespace-separated word, the word wrapped in < and >.',
  params: Type.Object(
    { ...TokenizerParams.properties, n: Type.Integer({ minimum: 1, maximum: 8, default: 3, description: 'Characters per n-gram.' }) },
    { additionalProperties: false },
  ),
  build({ lowercase, n }): Tokenizer {
    return {
      tokenize(text) {
        const words = (lowercase ? text.toLowerCase() : text).split(/\s+/).filter(Boolean);
        return words.flatMap((word) => {
          const wrapped = `<${word}>`;
          if (wrapped.length <= n) return [wrapped];
          return Array.from({ length: wrapped.length - n + 1 }, (_, i) => wrapped.slice(i, i + n));
        });
      },
    };
  },
});

export default definePlugin({ model: [bagMlp], tokenizer: [charNgrams] });

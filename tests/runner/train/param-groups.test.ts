import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../../runner/config/issues.ts';
import { resolveParamGroups } from '../../../runner/train/param-groups.ts';

function tinyModel(): tf.LayersModel {
  const input = tf.input({ shape: [4] });
  const body = tf.layers.dense({ units: 3, name: 'body' }).apply(input) as tf.SymbolicTensor;
  const frozen = tf.layers.dense({ units: 3, name: 'frozen', trainable: false }).apply(body) as tf.SymbolicTensor;
  const head = tf.layers.dense({ units: 2, name: 'head' }).apply(frozen) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: head });
}

const names = (vars: tf.LayerVariable[]) => vars.map((v) => v.originalName);

test('unmatched variables go to the default group; lr_mult and lr set group rates', () => {
  const plan = resolveParamGroups(tinyModel(), {
    lr: 0.1,
    weightDecay: 0.01,
    groups: [
      { name: 'head', match: ['^head/'], lr_mult: 10 },
      { match: ['^body/bias$'], lr: 0.5, weight_decay: 0 },
    ],
  });
  const [defaults, head, bias] = plan.groups;
  assert.equal(names(defaults!.variables), ['body/kernel']);
  assert.equal([defaults!.lr, defaults!.weightDecay], [0.1, 0.01]);
  assert.equal(names(head!.variables), ['head/kernel', 'head/bias']);
  assert.is(head!.lr, 1);
  assert.equal([bias!.name, bias!.lr, bias!.weightDecay], ['group1', 0.5, 0]);
  assert.equal(names(plan.frozenLayers), ['frozen/kernel', 'frozen/bias']);
  assert.equal(plan.warnings, []);
});

test('a variable matching two groups is an error located at the second group', () => {
  try {
    resolveParamGroups(tinyModel(), { lr: 0.1, weightDecay: 0, groups: [{ match: ['kernel'] }, { match: ['^head'] }] });
    assert.unreachable();
  } catch (error) {
    assert.instance(error, ConfigError);
    const [issue] = (error as ConfigError).issues;
    assert.equal(issue!.path, ['optimizer', 'param_groups', 1, 'match']);
    assert.match(issue!.message, "'head/kernel' matches groups group0 and group1");
  }
});

test('a pattern that matches nothing is a warning; a bad regex and lr with lr_mult are errors', () => {
  const plan = resolveParamGroups(tinyModel(), { lr: 0.1, weightDecay: 0, groups: [{ match: ['^nothing'] }] });
  assert.is(plan.warnings.length, 1);
  assert.equal(plan.warnings[0]!.path, ['optimizer', 'param_groups', 0, 'match', 0]);
  try {
    resolveParamGroups(tinyModel(), { lr: 0.1, weightDecay: 0, groups: [{ match: ['('] }, { match: ['head'], lr: 1, lr_mult: 2 }] });
    assert.unreachable();
  } catch (error) {
    const issues = (error as ConfigError).issues;
    assert.equal(
      issues.map((i) => i.path),
      [
        ['optimizer', 'param_groups', 0, 'match', 0],
        ['optimizer', 'param_groups', 1],
      ],
    );
  }
});

test("a group name used twice (or the default group's name) is an error at its name", () => {
  for (const names of [
    ['a', 'a'],
    ['default', 'b'],
  ]) {
    const groups = names.map((name, i) => ({ name, match: [i === 0 ? '^body/' : '^head/'] }));
    try {
      resolveParamGroups(tinyModel(), { lr: 0.1, weightDecay: 0, groups });
      assert.unreachable('duplicate names must fail');
    } catch (error) {
      assert.instance(error, ConfigError);
      const issue = (error as ConfigError).issues[0]!;
      assert.equal(issue.path, ['optimizer', 'param_groups', names[0] === 'default' ? 0 : 1, 'name']);
      assert.match(issue.message, `group name '${names[0]}' is used twice`);
    }
  }
});

test('trainable: false freezes a group', () => {
  const plan = resolveParamGroups(tinyModel(), { lr: 0.1, weightDecay: 0, groups: [{ name: 'ice', match: ['^body/'], trainable: false }] });
  assert.is(plan.groups[1]!.trainable, false);
  assert.equal(names(plan.groups[1]!.variables), ['body/kernel', 'body/bias']);
});

test.run();

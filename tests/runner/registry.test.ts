import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Type } from '@sinclair/typebox';
import { closestName, defineComponent, editDistance, Registry } from '../../runner/registry.ts';
import { componentKinds } from '../../runner/config/schema.ts';

const make = (name: string) => defineComponent({ name, summary: `the ${name}`, params: Type.Object({}), build: () => name });

test('components register in order and build by type', () => {
  const registry = new Registry<string>('widget').register(make('alpha'), make('beta'));
  assert.equal(registry.names(), ['alpha', 'beta']);
  assert.is(registry.build({ type: 'beta' }, { configDir: '.', warn() {} }), 'beta');
  assert.is(registry.find('gamma'), undefined);
  assert.throws(() => registry.get('gamma'), /no widget component 'gamma'/);
});

test('a duplicate name throws', () => {
  const registry = new Registry<string>('widget').register(make('alpha'));
  assert.throws(() => registry.register(make('alpha')), /registered twice/);
});

test('names must be snake_case', () => {
  assert.throws(() => new Registry<string>('widget').register(make('BadName')), /snake_case/);
});

test('closest name: typos are suggested, unrelated words are not', () => {
  assert.is(editDistance('kitten', 'sitting'), 3);
  assert.is(closestName('textcn', ['textcnn', 'birnn']), 'textcnn');
  assert.is(closestName('bi_rnn', ['textcnn', 'birnn']), 'birnn');
  assert.is(closestName('transformer', ['textcnn', 'birnn']), undefined);
});

test('every registered component documents every param (they become schema descriptions)', () => {
  for (const [kind, registry] of Object.entries(componentKinds)) {
    for (const component of (registry as Registry<unknown, never>).all()) {
      assert.ok(component.summary.length > 10, `${kind} ${component.name} summary`);
      const props = (component.params as unknown as { properties: Record<string, { description?: string }> }).properties;
      for (const [name, schema] of Object.entries(props))
        assert.ok(schema.description, `${kind}.${component.name}.${name} has no description`);
    }
  }
});

test.run();

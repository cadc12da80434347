import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runLoad } from '../../helpers/load.ts';

// The load test (small; bench/shared-store.ts is the large one): runs, a parallel sweep and the UI started together
// on one fresh local store share one server, started once; every run is tracked live and exactly.
test('two runs, a 2-way sweep and runner ui started together on a fresh local store: one server, every run tracked live and exactly', async () => {
  const load = await runLoad({ runs: 2, sweepTrials: 2, train: '{epochs: 2, log_every_steps: 1}' });
  assert.equal(load.problems, [], load.problems.join('\n\n'));
  assert.is(load.runs.length, 4);
  const said = load.results.map((r) => r.result.stderr).join('\n');
  assert.match(said, 'using the MLflow server already serving this store', 'later processes joined the first one');
});

test.run();

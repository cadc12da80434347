import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import { readdirSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { ConfigDiagnosticsError } from '../../../runner/config/diagnostics.ts';
import { loadConfig } from '../../../runner/config/load.ts';
import { UserError } from '../../../runner/errors.ts';
import { Progress } from '../../../runner/progress.ts';
import { runExperiment } from '../../../runner/run/run-experiment.ts';
import { planSweepChecked } from '../../../runner/sweep/plan.ts';
import { mutateConfigs, seededRandom } from '../../helpers/mutate-config.ts';
import { PROJECT_ROOT, tempDir } from '../../helpers/files.ts';

const configs = join(PROJECT_ROOT, 'configs');
const shipped = readdirSync(configs)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => join(configs, f));
const MUTANTS = 1_000;
const DRY_RUNS = 4;

test(`${MUTANTS} seeded broken variants of the shipped configs: validated in-process, never a crash, every rejection located`, async () => {
  const dir = tempDir();
  const accepted: { file: string; base: string; what: string }[] = [];
  let rejected = 0;
  const mutants = mutateConfigs(shipped, MUTANTS, 14);
  for (const [i, mutant] of mutants.entries()) {
    const file = join(dir, `mutant-${i}.yaml`);
    writeFileSync(file, mutant.yaml);
    const context = `mutant ${i} of ${mutant.base} (${mutant.what})`;
    try {
      await planSweepChecked(file);
      accepted.push({ file, base: mutant.base, what: mutant.what });
    } catch (error) {
      assert.ok(error instanceof UserError, `${context}: not a UserError: ${(error as Error).stack}`);
      rejected++;
      if (error instanceof ConfigDiagnosticsError) {
        assert.ok(error.diagnostics.length > 0, context);
        for (const d of error.diagnostics) {
          assert.ok(d.position ?? d.origin, `${context}: not located: ${d.message}`);
          if (d.position) assert.is(d.position.file, file, `${context}: located in the mutant`);
        }
      } else {
        // Problems of the files themselves (an extended file that does not exist) name the file instead.
        assert.match(error.message, file, `${context}: ${error.message}`);
      }
    }
  }
  assert.ok(rejected > MUTANTS / 2, `most variants are broken (${rejected} of ${MUTANTS} rejected)`);
  assert.ok(accepted.length > 0, 'some variants are still valid (e.g. a number that stays in range)');

  // What validate accepts must build: dry runs (data, model, parameter groups) of a seeded sample of the accepted
  // variants of quickstart.yaml, whose data is a small fixture.
  const random = seededRandom(14);
  const quick = accepted.filter((a) => a.base.endsWith('quickstart.yaml'));
  const sample = Array.from({ length: Math.min(DRY_RUNS, quick.length) }, () => quick.splice(Math.floor(random() * quick.length), 1)[0]!);
  const silent = new Progress(new Writable({ write: (_chunk, _encoding, done) => done() }) as unknown as NodeJS.WriteStream, {
    quiet: true,
  });
  for (const { file, what } of sample) {
    const outcome = await runExperiment(loadConfig(file), { runsDir: tempDir(), progress: silent, dryRun: true }).catch((error) => {
      assert.unreachable(`validate accepted ${file} (${what}) but its dry run failed: ${(error as Error).message}`);
    });
    assert.is(outcome?.status, 'DRY_RUN');
  }
  assert.is(sample.length, DRY_RUNS);
});

test.run();

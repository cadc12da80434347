import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { trialHash } from '../sweep/trials.ts';

/** Git commit and dirty flag of the repository holding `dir`, when there is one. */
export function gitInfo(dir: string): { commit: string; branch?: string; dirty: boolean } | undefined {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const commit = git('rev-parse', 'HEAD');
    const branch = git('rev-parse', '--abbrev-ref', 'HEAD');
    return { commit, branch: branch === 'HEAD' ? undefined : branch, dirty: git('status', '--porcelain', '--untracked-files=no') !== '' };
  } catch {
    return undefined;
  }
}

/** Hash of a resolved config without its sweep block: same settings, same hash (sweeps match trials by it). */
export function configHash(config: { sweep?: unknown }): string {
  const { sweep: _sweep, ...settings } = config;
  return trialHash(settings);
}

/** The runner's own version (from package.json). */
export function runnerVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

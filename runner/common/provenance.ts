import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { canonicalHash } from './hash.ts';

/** The git commit, branch and dirty flag of a folder (all undefined outside a git work tree). */
export function gitInfo(dir: string): { commit?: string; branch?: string; dirty?: boolean } {
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
  try {
    const commit = git('rev-parse', 'HEAD');
    const branch = git('rev-parse', '--abbrev-ref', 'HEAD');
    const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
    return { commit, branch: branch === 'HEAD' ? undefined : branch, dirty };
  } catch {
    return {};
  }
}

/** Hash of a resolved config without its sweep block: same settings, same hash (sweeps match trials by it). */
export function configHash(config: { sweep?: unknown }): string {
  const { sweep: _sweep, ...settings } = config;
  return canonicalHash(settings);
}

let version: string | undefined;

/** The runner's own version (from package.json). */
export function runnerVersion(): string {
  if (version === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
      version = String(pkg.version ?? 'unknown');
    } catch {
      version = 'unknown';
    }
  }
  return version;
}

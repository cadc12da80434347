import { userInfo } from 'node:os';
import { gitInfo, runnerVersion } from '../common/provenance.ts';
import { PROJECT_ROOT } from './server.ts';
import { TAGS } from './tags.ts';

/** What start() knows about a run, for its tags. */
export interface RunTagInput {
  runName?: string;
  description?: string;
  configName?: string;
  configHash?: string;
  backend?: string;
  device?: string;
  /** mlflow.source.name (default: `runner run <configName>`). */
  sourceName?: string;
  /** Folder whose git commit is recorded (default: the project root). */
  gitDir?: string;
}

/**
 * The standard tags of a run: mlflow.runName, mlflow.note.content, mlflow.user, mlflow.source.name/type,
 * mlflow.source.git.commit/branch, runner.git_dirty, runner.version, runner.config_hash, runner.backend, runner.device.
 */
export function standardTags(input: RunTagInput, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const tags: Record<string, string> = {};
  const set = (key: string, value: string | undefined) => {
    if (value !== undefined && value !== '') tags[key] = value;
  };
  set('mlflow.runName', input.runName);
  set('mlflow.note.content', input.description);
  set('mlflow.user', currentUser(env));
  set('mlflow.source.type', 'LOCAL');
  set('mlflow.source.name', input.sourceName ?? (input.configName ? `runner run ${input.configName}` : 'runner'));
  const git = gitInfo(input.gitDir ?? PROJECT_ROOT);
  set('mlflow.source.git.commit', git.commit);
  set('mlflow.source.git.branch', git.branch);
  if (git.commit) set(TAGS.gitDirty, String(git.dirty));
  set(TAGS.version, runnerVersion());
  set(TAGS.configName, input.configName);
  set(TAGS.configHash, input.configHash);
  set(TAGS.backend, input.backend);
  set(TAGS.device, input.device);
  return tags;
}

/** The user running the process (env USER/LOGNAME, else the OS account). */
export function currentUser(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.USER || env.LOGNAME) return env.USER || env.LOGNAME;
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}

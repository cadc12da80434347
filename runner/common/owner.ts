/**
 * The process that owns a run folder (or a sweep folder, or a lock) while it runs, and whether that process still
 * lives. Below every layer: tracking, run and sweep all use it.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** The file in a run folder that names its process (not uploaded). */
export const OWNER_FILE = 'owner.json';

/** A process on a host. */
export interface ProcessOwner {
  pid: number;
  host: string;
  /** When the process started (epoch ms), for people. */
  started?: number;
  /** Its start in clock ticks since boot (Linux /proc), to tell it from a later process with the same pid. */
  start_ticks?: number;
}

/** This process. */
export function currentOwner(): ProcessOwner {
  const ticks = startTicks(process.pid);
  return {
    pid: process.pid,
    host: hostname(),
    started: Math.round(Date.now() - process.uptime() * 1000),
    ...(ticks === undefined ? {} : { start_ticks: ticks }),
  };
}

/** Records this process as the owner of `dir` (owner.json, written atomically). */
export function writeOwner(dir: string): void {
  const file = join(dir, OWNER_FILE);
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(currentOwner(), null, 2)}\n`);
  renameSync(temp, file);
}

/** The owner recorded in `dir`, or undefined when there is none (or it is unreadable). */
export function readOwner(dir: string): ProcessOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(join(dir, OWNER_FILE), 'utf8')) as ProcessOwner;
    return Number.isInteger(owner.pid) && typeof owner.host === 'string' ? owner : undefined;
  } catch {
    return undefined;
  }
}

/**
 * alive: the process runs on this host; gone: it has ended (or its pid now belongs to another process; this process
 * counts as gone too, as it is not running the work it inspects); elsewhere: another host, which cannot be checked.
 */
export type OwnerState = 'alive' | 'gone' | 'elsewhere';

/** Whether the owner of some work still runs. */
export function ownerState(owner: Pick<ProcessOwner, 'pid' | 'host' | 'start_ticks'>): OwnerState {
  if (owner.host !== hostname()) return 'elsewhere';
  if (owner.pid === process.pid || !pidAlive(owner.pid)) return 'gone';
  if (owner.start_ticks !== undefined) {
    const ticks = startTicks(owner.pid);
    if (ticks !== undefined && ticks !== owner.start_ticks) return 'gone'; // the pid was reused
  }
  return 'alive';
}

/** `process 123 on host-a (started 2026-11-29T10:15:02Z)`. */
export function describeOwner(owner: ProcessOwner): string {
  const started = owner.started ? ` (started ${new Date(owner.started).toISOString().replace(/\.\d+Z$/, 'Z')})` : '';
  return `process ${owner.pid} on ${owner.host}${started}`;
}

/** True while a process with this pid exists (one of another user counts). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks after boot); undefined off Linux. */
function startTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    return Number.isSafeInteger(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

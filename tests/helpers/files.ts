import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the project root. */
export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Absolute path of a fixture under tests/fixtures. */
export function fixture(...parts: string[]): string {
  return join(PROJECT_ROOT, 'tests', 'fixtures', ...parts);
}

/** A fresh temporary folder. */
export function tempDir(prefix = 'runner-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes files (relative path → content) under `root`, creating folders; returns `root`. */
export function writeTree(root: string, files: Record<string, string | Uint8Array>): string {
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
  return root;
}

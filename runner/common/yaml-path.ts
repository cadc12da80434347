/** A path into a YAML document: mapping keys and list indices. */
export type YamlPath = (string | number)[];

/**
 * A config path as users write it: `sweep.matrix.exclude[0]["optimizer.lr"]`. Keys that are not
 * plain identifiers (dotted matrix keys among them) are quoted, so they are not mistaken for nesting.
 */
export function formatPath(path: YamlPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out === '' ? '(config root)' : out;
}

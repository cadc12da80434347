import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { ConfigPath } from './issues.ts';

/** A position in a source file (1-based line and column). */
export interface SourcePosition {
  file: string;
  line: number;
  col: number;
}

/** A parse problem with its position. */
export interface ParseProblem {
  position: SourcePosition;
  message: string;
}

/** Keys that could pollute prototypes when configs become JS objects. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** Most alias expansions a config may make (guards against "billion laughs" alias bombs). */
const MAX_ALIAS_COUNT = 100;

/** One parsed YAML file that can say where any path of its tree is written. */
export class YamlSource {
  readonly lines: string[];
  private readonly lineCounter = new LineCounter();
  private readonly document: Document.Parsed;

  private constructor(
    readonly file: string,
    readonly text: string,
  ) {
    this.lines = text.split(/\r?\n/);
    this.document = parseDocument(text, { lineCounter: this.lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
  }

  /** Parses a file; problems are returned, not thrown. */
  static read(file: string): YamlSource {
    return new YamlSource(file, readFileSync(file, 'utf8'));
  }

  /** Parses text as if it came from `file`. */
  static fromText(file: string, text: string): YamlSource {
    return new YamlSource(file, text);
  }

  /** Syntax errors, duplicate keys, unknown tags and forbidden keys, with positions. */
  problems(): ParseProblem[] {
    const problems: ParseProblem[] = [...this.document.errors, ...this.document.warnings].map((error) => ({
      position: this.position(error.pos[0]),
      message: error.code === 'DUPLICATE_KEY' ? `duplicate key: ${firstLine(error.message)}` : firstLine(error.message),
    }));
    visit(this.document, {
      Pair: (_, pair) => {
        if (isScalar(pair.key) && FORBIDDEN_KEYS.has(String(pair.key.value))) {
          problems.push({
            position: this.position(pair.key.range?.[0] ?? 0),
            message: `the key '${String(pair.key.value)}' is not allowed in a config (it could change how objects behave).`,
          });
        }
      },
    });
    return problems;
  }

  /** The document as plain data; throws a ParseProblem-like error on alias bombs. */
  toData(): unknown {
    try {
      return this.document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
    } catch (error) {
      throw Object.assign(
        new Error(`${this.file}: ${(error as Error).message} (at most ${MAX_ALIAS_COUNT} alias expansions are allowed).`),
        {
          problem: true,
        },
      );
    }
  }

  /** How deep `path` reaches into this file: the number of leading segments it defines. */
  depthOf(path: ConfigPath): number {
    let node: unknown = this.document.contents;
    for (let depth = 0; depth < path.length; depth++) {
      const child = childNode(node, path[depth]!);
      if (child === undefined) return depth;
      node = child.value;
    }
    return path.length;
  }

  /** Position of the value (or, with `atKey`, the key) at `path`, or of its deepest written ancestor. */
  locate(path: ConfigPath, atKey = false): SourcePosition {
    let node: unknown = this.document.contents;
    let offset = (node as Node | null)?.range?.[0] ?? 0;
    for (const segment of path) {
      const child = childNode(node, segment);
      if (child === undefined) break;
      node = child.value;
      const keyStart = child.key?.range?.[0];
      const valueStart = (child.value as Node | null)?.range?.[0];
      offset = (atKey && segment === path[path.length - 1] ? keyStart : (valueStart ?? keyStart)) ?? offset;
    }
    return this.position(offset);
  }

  private position(offset: number): SourcePosition {
    const { line, col } = this.lineCounter.linePos(offset);
    return { file: this.file, line, col };
  }
}

function childNode(node: unknown, segment: string | number): { key?: Node; value: unknown } | undefined {
  if (isMap(node)) {
    for (const pair of node.items) {
      if (isPair(pair) && isScalar(pair.key) && String(pair.key.value) === String(segment)) {
        return { key: pair.key, value: pair.value };
      }
    }
    return undefined;
  }
  if (isSeq(node) && typeof segment === 'number') {
    const item = node.items[segment];
    return item === undefined ? undefined : { value: item };
  }
  return undefined;
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

// Reads one YAML file and validates it against a zod schema, reporting each problem at the line
// and column of the offending node (the `yaml` library keeps node ranges; a LineCounter maps them).
import { readFile, stat } from 'node:fs/promises';
import {
  isMap,
  isNode,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
  type YAMLError,
} from 'yaml';
import type { z } from 'zod';
import type { DefinitionProblem } from './errors.js';

/**
 * Definition files are small hand-written YAML; anything bigger is a mistake (a pasted log, a
 * generated file), and parsing it would only slow start-up. The limit is named in the error.
 */
export const MAX_DEFINITION_BYTES = 1024 * 1024;

export interface Position {
  line: number;
  col: number;
}

export interface SourceFile<T> {
  file: string;
  value: T;
  /** Line:col of the node at a path inside the file (nearest existing ancestor). */
  locate(path: readonly PropertyKey[]): Position;
  /** Line:col of the last key of a path itself (e.g. a status name), not of its value. */
  locateKey(path: readonly PropertyKey[]): Position;
  /**
   * Line:col of `needle` inside the source text of the node at `path` (e.g. one `{{ placeholder }}`
   * of a template); the node's own position when the text does not show it literally.
   */
  locateText(path: readonly PropertyKey[], needle: string, occurrence?: number): Position;
  /** Text of the file, for hashing (the runbook version named in every comment). */
  text: string;
}

/** Builds the problems found in one file, each at its position there. */
export function problemAt<T>(
  source: SourceFile<T>,
): (position: Position, message: string) => DefinitionProblem {
  return (position, message) => ({ file: source.file, ...position, message });
}

export type Parsed<T> =
  | { ok: true; source: SourceFile<T> }
  /** `name` is the file's top-level name when it has one, so others referring to it can tell. */
  | { ok: false; problems: DefinitionProblem[]; name?: string };

export async function loadYamlFile<S extends z.ZodType>(
  file: string,
  schema: S,
): Promise<Parsed<z.output<S>>> {
  // Checked before reading, so a huge file is refused without loading it.
  const { size } = await stat(file);
  if (size > MAX_DEFINITION_BYTES) return { ok: false, problems: [tooBig(file, size)] };
  return parseYaml(file, await readFile(file, 'utf8'), schema);
}

function parseYaml<S extends z.ZodType>(file: string, text: string, schema: S): Parsed<z.output<S>> {
  const size = Buffer.byteLength(text, 'utf8');
  if (size > MAX_DEFINITION_BYTES) return { ok: false, problems: [tooBig(file, size)] };
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const at = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, col };
  };
  const syntax = [...document.errors, ...document.warnings].map((error) => ({
    file,
    ...at(error.pos[0]),
    message: syntaxMessage(error, text),
  }));
  if (syntax.length > 0) return { ok: false, problems: syntax };
  if (document.contents === null)
    return { ok: false, problems: [{ file, line: 1, col: 1, message: 'file is empty' }] };

  const locate = (path: readonly PropertyKey[]) => at(nodeAt(document, path, false).node?.range?.[0] ?? 0);
  const locateKey = (path: readonly PropertyKey[]) => at(nodeAt(document, path, true).node?.range?.[0] ?? 0);
  const locateText = (path: readonly PropertyKey[], needle: string, occurrence = 0): Position => {
    const found = nodeAt(document, path, false);
    const range = found.node?.range;
    if (!found.exact || !range) return locate(path);
    let index = text.indexOf(needle, range[0]);
    for (let seen = 0; seen < occurrence && index !== -1; seen += 1) index = text.indexOf(needle, index + 1);
    return index !== -1 && index < range[1] ? at(index) : at(range[0]);
  };

  let data: unknown;
  try {
    // Aliases that expand to a huge value (a "billion laughs" file) stop here, not in memory.
    data = document.toJS({ maxAliasCount: 100 });
  } catch {
    const message =
      'too many YAML aliases (*name): the file would expand to a huge value; write the values out';
    return { ok: false, problems: [{ file, line: 1, col: 1, message }] };
  }
  const result = schema.safeParse(data);
  if (!result.success) {
    const name = document.get('name');
    return {
      ok: false,
      ...(typeof name === 'string' ? { name } : {}),
      problems: result.error.issues.map((issue) => schemaProblem(file, document, at, issue)),
    };
  }
  return { ok: true, source: { file, value: result.data, locate, locateKey, locateText, text } };
}

function tooBig(file: string, size: number): DefinitionProblem {
  const mb = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  return {
    file,
    line: 1,
    col: 1,
    message: `file is ${mb(size)}; definition files are limited to ${mb(MAX_DEFINITION_BYTES)} (split it into several files)`,
  };
}

/** The parser's message, said for a runbook author (the parser's own texts name its API). */
function syntaxMessage(error: YAMLError, text: string): string {
  switch (error.code) {
    case 'DUPLICATE_KEY': {
      const key = /^\s*("[^"]*"|'[^']*'|[^:\n#]+?)\s*:/.exec(text.slice(error.pos[0]))?.[1];
      return `duplicate key${key ? ` ${JSON.stringify(key.replace(/^["']|["']$/g, ''))}` : ''}: each key may appear once in a mapping`;
    }
    case 'TAB_AS_INDENT':
      return 'tab used for indentation: YAML indents with spaces only';
    case 'MULTIPLE_DOCS':
      return 'a definition file holds one YAML document: remove the "---" separator or split the file';
    default:
      return `YAML syntax: ${error.message.split('\n')[0] ?? error.message}`;
  }
}

type Issue = z.core.$ZodIssue;

function schemaProblem(
  file: string,
  document: Document,
  at: (offset: number) => Position,
  issue: Issue,
): DefinitionProblem {
  // An unknown key is reported at the key itself; a missing one at the key of the mapping that
  // lacks it; anything else at the value's node.
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    const found = nodeAt(document, [...issue.path, key], true);
    const message =
      issue.keys.length === 1
        ? `unknown key "${key}"`
        : `unknown keys ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    return { file, ...at(found.node?.range?.[0] ?? 0), message: `${pathPrefix(issue.path)}${message}` };
  }
  if (issue.code === 'invalid_key') {
    // A bad name in a record (a step, input or site name): at the name itself.
    const found = nodeAt(document, issue.path, true);
    const name = String(issue.path.at(-1));
    const reason = issue.issues[0]?.message ?? issue.message;
    return {
      file,
      ...at(found.node?.range?.[0] ?? 0),
      message: `${pathPrefix(issue.path.slice(0, -1))}invalid name "${name}": ${reason}`,
    };
  }
  const found = nodeAt(document, issue.path, false);
  if (!found.exact) {
    const parent = issue.path.slice(0, -1);
    const key = issue.path.at(-1);
    const keyNode = parent.length === 0 ? document.contents : nodeAt(document, parent, true).node;
    return {
      file,
      ...at(keyNode?.range?.[0] ?? 0),
      message: `${pathPrefix(parent)}missing required key "${String(key)}"`,
    };
  }
  return {
    file,
    ...at(found.node?.range?.[0] ?? 0),
    message: `${pathPrefix(issue.path)}${issueMessage(issue)}`,
  };
}

/** Zod's type names, in the words of YAML. */
const TYPE_WORDS: Record<string, string> = {
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  null: 'nothing',
  undefined: 'nothing',
};
const typeWord = (type: string) => TYPE_WORDS[type] ?? type;

function issueMessage(issue: Issue): string {
  if (issue.code === 'invalid_union') {
    const { discriminator, options } = issue as { discriminator?: unknown; options?: unknown };
    // A discriminated union (the step kind) with no matching option: zod's issue carries both.
    if (typeof discriminator === 'string' && Array.isArray(options)) {
      return `unknown ${discriminator} (expected one of: ${options.map(String).join(', ')})`;
    }
    // A union of plain types (a duration: number or "10m"): say which types would do.
    const expected = issue.errors.flatMap((branch) =>
      branch.flatMap((inner) => (inner.code === 'invalid_type' ? [typeWord(inner.expected)] : [])),
    );
    if (expected.length > 0 && expected.length === issue.errors.length)
      return `expected ${expected.join(' or ')}`;
  }
  if (issue.code === 'invalid_type') {
    const received = /received (\w+)$/.exec(issue.message)?.[1];
    return `expected ${typeWord(issue.expected)}${received ? `, got ${typeWord(received)}` : ''}`;
  }
  if (issue.code === 'too_small' && Number(issue.minimum) === 1 && issue.origin !== 'number')
    return 'must not be empty';
  if (issue.code === 'too_small' && issue.origin === 'number')
    return `must be ${issue.inclusive ? 'at least' : 'more than'} ${String(issue.minimum)}`;
  if (issue.code === 'too_big' && issue.origin === 'number')
    return `must be ${issue.inclusive ? 'at most' : 'less than'} ${String(issue.maximum)}`;
  return issue.message;
}

/**
 * The node at a path, or the nearest existing ancestor (`exact` tells which); with `keyOfLast`,
 * the last key's own node.
 */
function nodeAt(
  document: Document,
  path: readonly PropertyKey[],
  keyOfLast: boolean,
): { node: Node | undefined; exact: boolean } {
  let node: unknown = document.contents;
  for (const [index, key] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(key));
      if (!pair) return { node: isNode(node) ? node : undefined, exact: false };
      const wantKey = keyOfLast && index === path.length - 1;
      node = wantKey || !isNode(pair.value) ? pair.key : pair.value;
    } else if (isSeq(node)) {
      const item: unknown = node.items[Number(key)];
      if (!isNode(item)) return { node, exact: false };
      node = item;
    } else return { node: isNode(node) ? node : undefined, exact: false };
  }
  return { node: isNode(node) ? node : undefined, exact: true };
}

function pathPrefix(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '' : `${path.map(String).join('.')}: `;
}

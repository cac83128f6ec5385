// Reads one YAML file and validates it against a zod schema, reporting each problem at the line
// and column of the offending node (the `yaml` library keeps node ranges; a LineCounter maps them).
import { readFile } from 'node:fs/promises';
import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import type { DefinitionProblem } from './errors.js';

export interface SourceFile<T> {
  file: string;
  value: T;
  /** Line:col of the node at a path inside the file (nearest existing ancestor). */
  locate(path: readonly PropertyKey[]): { line: number; col: number };
  /** Text of the file, for hashing (the runbook version named in every comment). */
  text: string;
}

export type Parsed<T> = { ok: true; source: SourceFile<T> } | { ok: false; problems: DefinitionProblem[] };

export async function loadYamlFile<S extends z.ZodType>(
  file: string,
  schema: S,
): Promise<Parsed<z.output<S>>> {
  return parseYaml(file, await readFile(file, 'utf8'), schema);
}

export function parseYaml<S extends z.ZodType>(file: string, text: string, schema: S): Parsed<z.output<S>> {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, col };
  };
  const syntax = [...document.errors, ...document.warnings].map((error) => ({
    file,
    ...at(error.pos[0]),
    message: error.message.split('\n')[0] ?? error.message,
  }));
  if (syntax.length > 0) return { ok: false, problems: syntax };
  if (document.contents === null)
    return { ok: false, problems: [{ file, line: 1, col: 1, message: 'file is empty' }] };

  const locate = (path: readonly PropertyKey[]) => at(nodeAt(document, path, false)?.range?.[0] ?? 0);
  const result = schema.safeParse(document.toJS());
  if (!result.success) {
    return {
      ok: false,
      problems: result.error.issues.map((issue) => {
        // An unknown key is reported at the key itself; anything else at the value's node.
        const unknownKey = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
        const path = unknownKey === undefined ? issue.path : [...issue.path, unknownKey];
        return {
          file,
          ...at(nodeAt(document, path, unknownKey !== undefined)?.range?.[0] ?? 0),
          message: `${describePath(issue.path)}${issue.message}`,
        };
      }),
    };
  }
  return { ok: true, source: { file, value: result.data, locate, text } };
}

/** The node at a path, or the nearest existing ancestor; with `keyOfLast`, the last key's own node. */
function nodeAt(document: Document, path: readonly PropertyKey[], keyOfLast: boolean): Node | undefined {
  let node: unknown = document.contents;
  for (const [index, key] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(key));
      if (!pair) break;
      const wantKey = keyOfLast && index === path.length - 1;
      node = wantKey || !isNode(pair.value) ? pair.key : pair.value;
    } else if (isSeq(node)) {
      const item: unknown = node.items[Number(key)];
      if (!isNode(item)) break;
      node = item;
    } else break;
  }
  return isNode(node) ? node : undefined;
}

function describePath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '' : `${path.map(String).join('.')}: `;
}

// Jira sandbox: the store's secondary indexes, so a search reads the issues that can match instead
// of filtering the whole store (20,000 issues in the scale benchmark: every poll page and every
// holders search used to scan them all). By project, by status and by the words of each custom
// text field, always current (the lagging search index is served by a scan, store.ts). An index
// only narrows: `candidates` returns a superset of the keys a query matches, and the search still
// applies the whole predicate to each candidate, so results are exactly the scan's.
import { words, type JqlContext } from './jql-eval.js';
import type { JqlExpr } from './jql-parse.js';
import type { IssueRecord } from './types.js';

const add = (index: Map<string, Set<string>>, value: string, key: string): void => {
  const keys = index.get(value);
  if (keys) keys.add(key);
  else index.set(value, new Set([key]));
};

const remove = (index: Map<string, Set<string>>, value: string, key: string): void => {
  const keys = index.get(value);
  if (!keys) return;
  keys.delete(key);
  if (keys.size === 0) index.delete(value);
};

const NONE: ReadonlySet<string> = new Set();

/** The words of each custom text field of an issue, as `${field}\n${word}`. */
function textTerms(issue: IssueRecord): Set<string> {
  const terms = new Set<string>();
  for (const [field, value] of Object.entries(issue.custom)) {
    if (typeof value !== 'string') continue;
    for (const word of words(value)) terms.add(`${field}\n${word}`);
  }
  return terms;
}

export class SearchIndex {
  private readonly byProject = new Map<string, Set<string>>();
  private readonly byStatus = new Map<string, Set<string>>();
  private readonly byTerm = new Map<string, Set<string>>();
  private readonly termsOf = new Map<string, Set<string>>();

  /** Records an issue's new state (`before` undefined: a new issue). */
  update(before: IssueRecord | undefined, after: IssueRecord): void {
    const key = after.key;
    if (before?.projectKey !== after.projectKey) {
      if (before) remove(this.byProject, before.projectKey, key);
      add(this.byProject, after.projectKey, key);
    }
    if (before?.status !== after.status) {
      if (before) remove(this.byStatus, before.status, key);
      add(this.byStatus, after.status, key);
    }
    const old = this.termsOf.get(key) ?? NONE;
    const terms = textTerms(after);
    for (const term of old) if (!terms.has(term)) remove(this.byTerm, term, key);
    for (const term of terms) if (!old.has(term)) add(this.byTerm, term, key);
    this.termsOf.set(key, terms);
  }

  /**
   * A superset of the keys `expr` matches, or undefined when no index narrows it (negations,
   * labels, issue types). Call after `compileWhere` accepted the query: values are resolved the
   * same way, and one that does not resolve narrows to nothing.
   */
  candidates(expr: JqlExpr, context: JqlContext): ReadonlySet<string> | undefined {
    switch (expr.kind) {
      case 'and': {
        let best: ReadonlySet<string> | undefined;
        for (const part of expr.parts) {
          const found = this.candidates(part, context);
          if (found && (!best || found.size < best.size)) best = found;
        }
        return best;
      }
      case 'or': {
        const union = new Set<string>();
        for (const part of expr.parts) {
          const found = this.candidates(part, context);
          if (!found) return undefined;
          for (const key of found) union.add(key);
        }
        return union;
      }
      case 'in':
        return expr.negated ? undefined : this.members(expr.field, expr.values, context);
      case 'text': {
        if (expr.negated) return undefined;
        // Every word of the query (a phrase's too) must be among the field's words: the rarest
        // word's issues hold all matches.
        let best: ReadonlySet<string> | undefined;
        for (const word of words(expr.query)) {
          const found = this.byTerm.get(`${expr.field}\n${word}`) ?? NONE;
          if (!best || found.size < best.size) best = found;
        }
        return best;
      }
      case 'not':
      case 'empty':
        return undefined;
    }
  }

  private members(field: string, values: string[], { catalog, findIssue }: JqlContext) {
    const union = (index: Map<string, Set<string>>, resolved: (string | undefined)[]) => {
      const keys = new Set<string>();
      for (const value of resolved) for (const key of (value && index.get(value)) || NONE) keys.add(key);
      return keys;
    };
    if (field === 'project')
      return union(
        this.byProject,
        values.map((v) => catalog.findProject(v)?.key),
      );
    if (field === 'status')
      return union(
        this.byStatus,
        values.map((v) => catalog.findStatus(v)?.name),
      );
    if (field === 'key') {
      return new Set(values.flatMap((value) => findIssue(value)?.key ?? []));
    }
    return undefined;
  }
}

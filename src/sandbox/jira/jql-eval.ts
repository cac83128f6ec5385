// Jira sandbox: turns a parsed JQL query into a predicate and a sort order over issue records.
// Values are resolved when compiling, so an unknown project, status, type or key fails the whole
// search with Jira's 400 wording instead of silently matching nothing.
import type { JqlExpr, JqlField, JqlQuery } from './jql-parse.js';
import { JqlError } from './jql-parse.js';
import type { IssueRecord } from './types.js';
import type { WorkflowCatalog } from './workflow.js';

export interface JqlContext {
  catalog: WorkflowCatalog;
  findIssue: (idOrKey: string) => IssueRecord | undefined;
}

type Predicate = (issue: IssueRecord) => boolean;

export function compileWhere(expr: JqlExpr, context: JqlContext): Predicate {
  switch (expr.kind) {
    case 'and': {
      const parts = expr.parts.map((part) => compileWhere(part, context));
      return (issue) => parts.every((part) => part(issue));
    }
    case 'or': {
      const parts = expr.parts.map((part) => compileWhere(part, context));
      return (issue) => parts.some((part) => part(issue));
    }
    case 'not': {
      const inner = compileWhere(expr.inner, context);
      return (issue) => !inner(issue);
    }
    case 'empty': {
      // Only labels can be empty; the other supported fields always hold a value.
      const isEmpty: Predicate = expr.field === 'labels' ? (issue) => issue.labels.length === 0 : () => false;
      return expr.negated ? (issue) => !isEmpty(issue) : isEmpty;
    }
    case 'in':
      return compileMembership(expr.field, expr.values, expr.negated, context);
    case 'text': {
      const matches = textMatcher(expr.query);
      const field = expr.field;
      const hit: Predicate = (issue) => {
        const value = issue.custom[field];
        return typeof value === 'string' && matches(value);
      };
      // Like Jira, `!~` matches only issues whose field has a value.
      return expr.negated ? (issue) => typeof issue.custom[field] === 'string' && !hit(issue) : hit;
    }
  }
}

/** Words as Jira's text index sees them, roughly: lower case, split at anything not a letter or digit. */
export function words(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word !== '');
}

/**
 * Jira's text search, simplified: `"a phrase"` (quotes inside the JQL string) matches the words in
 * that order, next to each other; otherwise every word must appear, in any order. Jira's stemming
 * and wildcards are not modelled.
 */
function textMatcher(query: string): (value: string) => boolean {
  const trimmed = query.trim();
  const phrase = trimmed.length > 1 && trimmed.startsWith('"') && trimmed.endsWith('"');
  const wanted = words(phrase ? trimmed.slice(1, -1) : trimmed);
  if (wanted.length === 0) throw new JqlError(`The text query '${query}' has no words to search for.`);
  if (!phrase) {
    return (value) => {
      const have = new Set(words(value));
      return wanted.every((word) => have.has(word));
    };
  }
  return (value) => {
    const have = words(value);
    for (let start = 0; start + wanted.length <= have.length; start += 1) {
      if (wanted.every((word, offset) => have[start + offset] === word)) return true;
    }
    return false;
  };
}

function compileMembership(
  field: JqlField,
  values: string[],
  negated: boolean,
  context: JqlContext,
): Predicate {
  if (field === 'labels') {
    const wanted = new Set(values);
    const hit = (issue: IssueRecord): boolean => issue.labels.some((label) => wanted.has(label));
    // Jira quirk: `labels != x` and `labels not in (x)` never match an issue without labels;
    // a query that wants those too must add `OR labels is EMPTY`.
    return negated ? (issue) => issue.labels.length > 0 && !hit(issue) : hit;
  }
  const canonical = new Set(values.map((value) => resolve(field, value, context)));
  const valueOf = (issue: IssueRecord): string => {
    if (field === 'project') return issue.projectKey;
    if (field === 'issuetype') return issue.issueType;
    if (field === 'status') return issue.status;
    return issue.key;
  };
  return negated ? (issue) => !canonical.has(valueOf(issue)) : (issue) => canonical.has(valueOf(issue));
}

function resolve(
  field: Exclude<JqlField, 'labels'>,
  value: string,
  { catalog, findIssue }: JqlContext,
): string {
  const found =
    field === 'project'
      ? catalog.findProject(value)?.key
      : field === 'issuetype'
        ? catalog.findIssueType(value)?.name
        : field === 'status'
          ? catalog.findStatus(value)?.name
          : findIssue(value)?.key;
  if (found !== undefined) return found;
  if (field === 'key') throw new JqlError(`An issue with key '${value}' does not exist for field 'key'.`);
  throw new JqlError(`The value '${value}' does not exist for the field '${field}'.`);
}

function keyParts(key: string): [string, number] {
  const dash = key.lastIndexOf('-');
  return [key.slice(0, dash), Number(key.slice(dash + 1))];
}

/**
 * Issues in ORDER BY order; without one the sandbox returns issues oldest first (Jira documents no
 * default order for the enhanced search, so callers must not rely on one). Ties go to the older
 * issue (lower id), so the order is total and stable. Each key is split once, not per comparison.
 */
export function orderIssues(issues: readonly IssueRecord[], orderBy: JqlQuery['orderBy']): IssueRecord[] {
  const rows = issues.map((issue) => {
    const [project, number] = keyParts(issue.key);
    return { issue, project, number, id: Number(issue.id) };
  });
  type Row = (typeof rows)[number];
  const byKey = (a: Row, b: Row) =>
    a.project === b.project ? a.number - b.number : a.project.localeCompare(b.project);
  rows.sort((a, b) => {
    for (const { field, direction } of orderBy) {
      const sign = direction === 'DESC' ? -1 : 1;
      const diff = field === 'key' ? byKey(a, b) : a.issue[field] - b.issue[field];
      if (diff !== 0) return sign * diff;
    }
    return a.id - b.id;
  });
  return rows.map((row) => row.issue);
}

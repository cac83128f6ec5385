// Jira sandbox: what every route handler shares — the catalog, the store, the renderer, the
// configured limits — and the small lookups and query-parameter readers they all need.
import { badRequest, issueNotFound } from './errors.js';
import type { JiraRenderer } from './render.js';
import type { IssueStore } from './store.js';
import type { IssueRecord, LinkType } from './types.js';
import type { WorkflowCatalog } from './workflow.js';

export interface SandboxState {
  catalog: WorkflowCatalog;
  store: IssueStore;
  render: JiraRenderer;
  customFieldIds: Set<string>;
  searchPageMax: number;
  linkTypes: LinkType[];
  permissions: Set<string>;
  commentPageMax: number;
}

export function requireIssue(state: SandboxState, idOrKey: string | undefined): IssueRecord {
  const issue = idOrKey === undefined ? undefined : state.store.find(idOrKey);
  if (!issue) throw issueNotFound();
  return issue;
}

/** A list parameter as Jira reads it: repeated (`fields=a&fields=b`) and/or comma-separated. */
export function listParam(query: URLSearchParams, name: string): string[] {
  return query
    .getAll(name)
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter(Boolean);
}

export function intParam(query: URLSearchParams, name: string, fallback: number): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw badRequest(`The '${name}' parameter must be a non-negative integer, got '${raw}'.`);
  }
  return value;
}

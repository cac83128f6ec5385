// Jira sandbox: the enhanced search, GET and POST /rest/api/3/search/jql. The first page fixes the
// ordered list of matching keys; `nextPageToken` (opaque base64url of search id + offset) pages
// through that list, reading each issue from the (possibly lagging) search index. Issues named in
// `reconcileIssues` (numeric ids, at most 50) are read from the store instead: read-your-writes.
// Without lag, the first page filters only the issues the store's indexes name as candidates
// (search-index.ts); a page reads only its own issues.
import { badRequest, JiraError } from './errors.js';
import { parseBody, searchRequest } from './bodies.js';
import type { RequestContext, Route } from './http.js';
import { compileWhere, orderIssues, type JqlContext } from './jql-eval.js';
import { JqlError, parseJql, type JqlExpr } from './jql-parse.js';
import { fieldSelector } from './render.js';
import type { SandboxState } from './state.js';
import type { IssueRecord } from './types.js';
import { listParam } from './state.js';

const DEFAULT_PAGE = 50; // the spec's default maxResults
const KEPT_SEARCHES = 1000;
const RECONCILE_MAX = 50; // the spec: "Accepts max 50 ids"

interface SearchRequest {
  jql: string;
  nextPageToken: string | undefined;
  maxResults: number;
  fields: string[];
  properties: string[];
  reconcileIssues: string[];
}

interface Cursor {
  search: number;
  offset: number;
}

const asList = (value: string | string[] | undefined): string[] =>
  (Array.isArray(value) ? value : value === undefined ? [] : [value])
    .flatMap((v) => v.split(','))
    .filter(Boolean);

export class SearchEngine {
  private readonly searches = new Map<number, string[]>();
  private nextSearch = 1;

  constructor(private readonly state: SandboxState) {}

  routes(): Route[] {
    const template = '/rest/api/3/search/jql';
    return [
      { method: 'GET', template, handle: (c) => this.search(fromQuery(c)) },
      { method: 'POST', template, handle: (c) => this.search(fromBody(c)) },
    ];
  }

  private search(request: SearchRequest) {
    const page = Math.max(1, Math.min(request.maxResults, this.state.searchPageMax));
    const cursor =
      request.nextPageToken === undefined
        ? this.start(request.jql, request.reconcileIssues)
        : this.resume(request.nextPageToken);
    const keys = this.searches.get(cursor.search) ?? [];
    const fresh = this.fresh(request.reconcileIssues);
    const wanted = fieldSelector(request.fields, 'id');
    const slice = keys.slice(cursor.offset, cursor.offset + page);
    const issues = slice.flatMap((key) => {
      const issue = fresh.get(key) ?? this.state.store.searchableOne(key);
      return issue ? [this.state.render.issueBean(issue, wanted, request.properties)] : [];
    });
    const nextOffset = cursor.offset + page;
    const isLast = nextOffset >= keys.length;
    if (isLast) this.searches.delete(cursor.search);
    return {
      status: 200,
      body: {
        issues,
        ...(isLast ? {} : { nextPageToken: encode({ search: cursor.search, offset: nextOffset }) }),
        isLast,
      },
    };
  }

  /** The issues a request asks to reconcile, current, by key. */
  private fresh(reconcileIssues: string[]): Map<string, IssueRecord> {
    return new Map(
      reconcileIssues.flatMap((id) => {
        const issue = this.state.store.find(id);
        return issue ? [[issue.key, issue] as const] : [];
      }),
    );
  }

  /** The search index as this request sees it: lagging, except the issues it asks to reconcile. */
  private view(reconcileIssues: string[]): IssueRecord[] {
    const lagging = this.state.store.searchable();
    if (reconcileIssues.length === 0) return lagging;
    const fresh = this.fresh(reconcileIssues);
    return [...lagging.filter((issue) => !fresh.has(issue.key)), ...fresh.values()];
  }

  /**
   * The issues a query may match: without lag the store is the search index, so its indexes name
   * the candidates (a superset; the predicate decides); with lag, the whole lagging view.
   */
  private candidates(where: JqlExpr, context: JqlContext, reconcileIssues: string[]): IssueRecord[] {
    const { store } = this.state;
    const keys = store.searchIsCurrent ? store.index.candidates(where, context) : undefined;
    if (!keys) return this.view(reconcileIssues);
    return [...keys].flatMap((key) => store.find(key) ?? []);
  }

  private start(jql: string, reconcileIssues: string[]): Cursor {
    const query = parse(jql);
    if (!query.where) {
      throw badRequest(
        'Unbounded JQL queries are not allowed here. Please add a search restriction to your query.',
      );
    }
    const context: JqlContext = {
      catalog: this.state.catalog,
      findIssue: (k: string) => this.state.store.find(k),
    };
    let matches;
    try {
      matches = compileWhere(query.where, context);
    } catch (error) {
      throw asJiraError(error);
    }
    const keys = orderIssues(
      this.candidates(query.where, context, reconcileIssues).filter(matches),
      query.orderBy,
    ).map((issue) => issue.key);
    const search = this.nextSearch++;
    this.searches.set(search, keys);
    for (const old of this.searches.keys()) {
      if (this.searches.size <= KEPT_SEARCHES) break;
      this.searches.delete(old);
    }
    return { search, offset: 0 };
  }

  private resume(token: string): Cursor {
    const cursor = decode(token);
    if (!cursor || !this.searches.has(cursor.search)) {
      throw badRequest('The provided next page token is invalid or expired.');
    }
    return cursor;
  }
}

function parse(jql: string) {
  try {
    return parseJql(jql);
  } catch (error) {
    throw asJiraError(error);
  }
}

function asJiraError(error: unknown): unknown {
  return error instanceof JqlError ? new JiraError(400, [error.message]) : error;
}

function encode(cursor: Cursor): string {
  return Buffer.from(JSON.stringify({ s: cursor.search, o: cursor.offset })).toString('base64url');
}

function decode(token: string): Cursor | undefined {
  try {
    const raw = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { s?: unknown; o?: unknown };
    return typeof raw.s === 'number' && typeof raw.o === 'number'
      ? { search: raw.s, offset: raw.o }
      : undefined;
  } catch {
    return undefined;
  }
}

function fromQuery(context: RequestContext): SearchRequest {
  const raw = context.query.get('maxResults');
  const maxResults = raw === null || raw === '' ? DEFAULT_PAGE : Number(raw);
  if (!Number.isInteger(maxResults) || maxResults < 0) {
    throw badRequest(`The 'maxResults' parameter must be a non-negative integer, got '${raw ?? ''}'.`);
  }
  return {
    jql: context.query.get('jql') ?? '',
    nextPageToken: context.query.get('nextPageToken') ?? undefined,
    maxResults,
    fields: listParam(context.query, 'fields'),
    properties: listParam(context.query, 'properties'),
    reconcileIssues: reconcileIds(listParam(context.query, 'reconcileIssues')),
  };
}

function reconcileIds(values: (string | number)[]): string[] {
  const ids = values.map(String);
  const bad = ids.find((id) => !/^\d+$/.test(id));
  if (bad !== undefined) throw badRequest(`'reconcileIssues' takes issue ids (integers), got '${bad}'.`);
  if (ids.length > RECONCILE_MAX)
    throw badRequest(`'reconcileIssues' accepts at most ${RECONCILE_MAX} issue ids, got ${ids.length}.`);
  return ids;
}

function fromBody(context: RequestContext): SearchRequest {
  const body = parseBody(searchRequest, context.body);
  if (body.maxResults !== undefined && body.maxResults < 0)
    throw badRequest("'maxResults' must not be negative.");
  return {
    jql: body.jql ?? '',
    nextPageToken: body.nextPageToken,
    maxResults: body.maxResults ?? DEFAULT_PAGE,
    fields: asList(body.fields),
    properties: asList(body.properties),
    reconcileIssues: reconcileIds(body.reconcileIssues ?? []),
  };
}

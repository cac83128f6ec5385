// The Jira sandbox's indexed search (no search lag: the store's indexes name the candidates)
// answers exactly what a scan of the whole store answers (a lagging sandbox whose lag has passed
// scans), page by page and in ORDER BY order, after issues were created, moved and edited.
import { describe, expect, it } from 'vitest';
import { JiraRenderer } from '../../src/sandbox/jira/render.js';
import { SearchEngine } from '../../src/sandbox/jira/search.js';
import type { SandboxState } from '../../src/sandbox/jira/state.js';
import { IssueStore } from '../../src/sandbox/jira/store.js';
import type { SandboxProject } from '../../src/sandbox/jira/types.js';
import { WorkflowCatalog } from '../../src/sandbox/jira/workflow.js';

const HOST = 'customfield_10042';
const STATUSES = ['Waiting for RMA', 'Memcheck', 'Sync', 'Done'];

const projects: SandboxProject[] = ['HOT', 'RMA'].map((key) => ({
  key,
  name: key,
  issueTypes: ['RMA Restore', 'Task'],
  workflow: {
    initial: 'Waiting for RMA',
    statuses: STATUSES.map((name) => ({ name, category: name === 'Done' ? 'done' : 'new' })),
    transitions: [],
  },
}));

/** A sandbox's search with its own store; `lagMs` > 0 makes it scan (the clock is then far ahead). */
function sandboxSearch(lagMs: number) {
  let clock = 1_000;
  const store = new IssueStore(() => clock, lagMs);
  const catalog = new WorkflowCatalog(projects);
  const state: SandboxState = {
    catalog,
    store,
    render: new JiraRenderer(catalog, store, () => 'http://sandbox'),
    customFieldIds: new Set([HOST]),
    searchPageMax: 7,
    linkTypes: [],
    permissions: new Set(),
    commentPageMax: 10,
  };
  const [get] = new SearchEngine(state).routes();
  if (!get) throw new Error('no search route');
  /** Every key the JQL finds, paging through. */
  const search = (jql: string): string[] => {
    clock += lagMs * 10; // every write is past the lag
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const query = new URLSearchParams({ jql, maxResults: '7', fields: 'status' });
      if (token) query.set('nextPageToken', token);
      const reply = get.handle({ params: {}, query, body: undefined, actor: {} as never }) as {
        body: { issues: { key: string }[]; nextPageToken?: string };
      };
      keys.push(...reply.body.issues.map((issue) => issue.key));
      token = reply.body.nextPageToken;
    } while (token);
    return keys;
  };
  return { store, search, tick: () => (clock += 1) };
}

/** The same history for both stores: 60 issues over two projects, then moves and edits. */
function seed({ store, tick }: ReturnType<typeof sandboxSearch>): void {
  for (let i = 0; i < 60; i += 1) {
    tick();
    store.create({
      projectKey: i % 3 === 0 ? 'RMA' : 'HOT',
      issueType: i % 5 === 0 ? 'Task' : 'RMA Restore',
      status: STATUSES[i % STATUSES.length] ?? 'Done',
      summary: `issue ${i}`,
      description: null,
      labels: i % 4 === 0 ? ['batch'] : [],
      custom:
        i % 7 === 6 ? {} : { [HOST]: `node-${String(i % 20).padStart(5, '0')}.dc${(i % 3) + 1}.internal` },
    });
  }
  for (const key of ['HOT-2', 'HOT-9', 'RMA-4', 'HOT-30']) {
    tick();
    store.mutate(key, (draft) => (draft.status = 'Sync'));
  }
  for (const key of ['HOT-3', 'HOT-10']) {
    tick();
    store.mutate(key, (draft) => (draft.custom[HOST] = 'node-99999.dc9.internal'));
  }
  tick();
  store.mutate('HOT-11', (draft) => delete draft.custom[HOST]);
}

const QUERIES = [
  'project = HOT AND issuetype = "RMA Restore" AND status in ("Waiting for RMA", Memcheck, Sync) ORDER BY key ASC',
  'project = HOT AND status in (Sync) AND (cf[10042] ~ "\\"node-00002.dc3.internal\\"") ORDER BY key ASC',
  'cf[10042] ~ "\\"node-99999.dc9.internal\\""',
  'cf[10042] ~ "dc1 node" ORDER BY key DESC',
  'cf[10042] ~ "node-00001"',
  'cf[10042] !~ "dc1"',
  'status = Sync OR labels = batch ORDER BY updated DESC, key ASC',
  'status = Sync OR project = RMA ORDER BY created DESC',
  'key in (HOT-3, RMA-1, HOT-40) ORDER BY key DESC',
  'project in (HOT, RMA) AND NOT status = Done',
  'project = RMA AND labels is EMPTY ORDER BY key ASC',
  'status != Sync AND project = HOT',
];

describe('jira sandbox: indexed search', () => {
  it('finds exactly what a scan finds, in the same order, after moves and edits', () => {
    const indexed = sandboxSearch(0);
    const scanned = sandboxSearch(5);
    seed(indexed);
    seed(scanned);
    for (const jql of QUERIES) {
      expect(indexed.search(jql), jql).toEqual(scanned.search(jql));
    }
    // The queries are not vacuous: the workflow search pages, the moved issue's new host is found
    // and its old one is not, the removed field matches nothing.
    expect(indexed.search(QUERIES[0] ?? '').length).toBeGreaterThan(7);
    expect(indexed.search(QUERIES[1] ?? '')).toEqual(['HOT-2']);
    expect(indexed.search(QUERIES[2] ?? '')).toEqual(['HOT-3', 'HOT-10']);
    expect(indexed.search('cf[10042] ~ "\\"node-00004.dc2.internal\\""')).toEqual([]);
    expect(indexed.search('key = HOT-11 AND cf[10042] ~ "node"')).toEqual([]);
  });
});

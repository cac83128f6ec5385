// Contract: the real adapter (and the seeder) drive the real sandbox through a recording proxy, and
// every exchange — method, path, query parameters, JSON body, status, JSON answer — is validated
// against Atlassian's OpenAPI spec (RUNBOT_JIRA_SPEC). No exceptions list: a single problem fails.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shippedRestore } from '../support/definitions.js';
import type { Definitions, Workflow } from '../../src/definitions/index.js';
import { createJiraAdapter, doc, heading, codeBlock, paragraph, panel } from '../../src/jira/index.js';
import { mention } from '../../src/jira/adf.js';
import type { JiraAdapter } from '../../src/jira/index.js';
import { createLogger } from '../../src/logger.js';
import type { Bookkeeping } from '../../src/planner/ticket.js';
import { DEMO_CREDENTIALS } from '../../src/sandbox/demo-env.js';
import { JiraSandbox } from '../../src/sandbox/jira/index.js';
import { HOST_FIELD, RMA_PROJECT, restoreProject } from '../../src/sandbox/rma-jira.js';
import { jiraSeeder } from '../../src/sandbox/seed.js';
import { pollOnce } from '../../src/service/poller.js';
import type { CycleReport } from '../../src/service/poller.js';
import { SpecValidator } from './openapi.js';
import type { Exchange } from './openapi.js';
import { startRecordingProxy } from './recording-proxy.js';
import type { RecordingProxy } from './recording-proxy.js';

const SEARCH_LAG_MS = 60_000;
const ASSIGNEE = '712020:0e4c2f5b-6a43-4c1b-9b2a-5d7f1c3e9a10';
const logger = createLogger({ level: 'silent' });
const validator = new SpecValidator();

let clock = Date.parse('2026-01-05T10:00:00.000Z');
let sandbox: JiraSandbox;
let proxy: RecordingProxy;
let definitions: Definitions;
let workflow: Workflow;
let adapter: JiraAdapter;
const keys: string[] = [];
const outcomes: Record<string, unknown> = {};

const bookkeeping = (status: string): Bookkeeping => ({
  status,
  visit: 1,
  enteredAt: new Date(clock).toISOString(),
  running: { step: 'memcheck-start', since: new Date(clock).toISOString() },
});

const poll = (): Promise<CycleReport> =>
  pollOnce({
    jira: adapter,
    definitions,
    enqueue: () => Promise.resolve(),
    now: () => new Date(clock),
    timeScale: 1,
    logger,
  });

beforeAll(async () => {
  ({ definitions, workflow } = await shippedRestore());
  sandbox = new JiraSandbox({
    projects: [restoreProject(workflow), RMA_PROJECT],
    customFields: [HOST_FIELD],
    credentials: DEMO_CREDENTIALS,
    searchPageMax: 2, // five tickets: three pages
    commentPageMax: 2, // more comments than that: GET issue embeds a partial page, the adapter pages the rest
    searchLagMs: SEARCH_LAG_MS,
    now: () => clock,
  });
  proxy = await startRecordingProxy(await sandbox.start(0));
  adapter = createJiraAdapter({ url: proxy.url, ...DEMO_CREDENTIALS, logger, now: () => clock });

  // Seeding through the proxy: its requests are checked too.
  const seeder = jiraSeeder(proxy.url, DEMO_CREDENTIALS);
  for (let i = 1; i <= 5; i += 1) {
    const { key, rma } = await seeder.restoreTicket(workflow, `container-101-0${i}.dev2.internal`);
    if (i % 2 === 1) sandbox.moveAsHuman(rma, 'Done');
    keys.push(key);
  }
  clock += SEARCH_LAG_MS + 1000; // the index catches up (store stamps run a little ahead of the clock)

  const [first, second, third] = keys as [string, string, string];
  const gate = workflow.gate?.status ?? '';
  const next = workflow.gate?.next ?? '';
  const shape = { inputFields: workflow.fields };
  outcomes.firstPoll = await poll();
  outcomes.ticket = await adapter.getTicket(first, shape);
  outcomes.deleted = await adapter.getTicket(`${workflow.jira.project}-999`, shape);
  const report = doc([
    heading('Memcheck passed'),
    paragraph('moving on to ', next),
    panel('info', [codeBlock('memtester 1G 1\nok')]),
  ]);
  outcomes.moved = await adapter.transitionTo(
    first,
    { from: gate, to: next },
    { comment: report, bookkeeping: bookkeeping(next) },
  );
  sandbox.moveAsHuman(second, workflow.failure); // a person takes it first
  outcomes.refused = await adapter.transitionTo(second, { from: gate, to: next }, {});
  // A routed manual step: assignee and due date in one edit, then a comment that mentions them.
  outcomes.routed = await adapter.editFields(third, { assignee: ASSIGNEE, dueDate: '2026-01-05' });
  await adapter.addComment(
    third,
    doc([
      paragraph('Action Required: run the sync by hand'),
      paragraph('Assigned to ', mention(ASSIGNEE), '.'),
    ]),
  );
  await adapter.setBookkeeping(third, bookkeeping(gate)); // 201: new
  await adapter.setBookkeeping(third, bookkeeping(gate)); // 200: replaced
  outcomes.claimRead = await adapter.getBookkeeping(third); // a settled claim's read-back
  outcomes.noClaim = await adapter.getBookkeeping(second); // 404: never written
  // No time passes: the search index still lags, reconcileIssues brings the bot's writes in.
  outcomes.secondPoll = await poll();
  // What /readyz reads (src/http/readiness.ts): the bot's own account.
  const basic = Buffer.from(`${DEMO_CREDENTIALS.email}:${DEMO_CREDENTIALS.apiToken}`).toString('base64');
  outcomes.myself = await fetch(`${proxy.url}/rest/api/3/myself`, {
    headers: { authorization: `Basic ${basic}`, accept: 'application/json' },
  }).then((response) => response.status);

  // Transition screens: Done requires a Resolution (the sandbox's HOT project, as on most sites).
  const fourth = keys[3] ?? '';
  const last = Object.keys(workflow.statuses).at(-1) ?? '';
  sandbox.moveAsHuman(fourth, workflow.failure);
  sandbox.moveAsHuman(fourth, last);
  outcomes.withScreens = await adapter.getTicket(fourth, shape); // expand=transitions.fields
  outcomes.noResolution = await adapter
    .transitionTo(fourth, { from: last, to: workflow.done }, {})
    .catch((error: unknown) => error);
  outcomes.resolved = await adapter.transitionTo(
    fourth,
    { from: last, to: workflow.done },
    { fields: workflow.transitions?.[workflow.done]?.fields ?? {} },
  );
  // Robust reads: more comments than one page; the adapter pages GET …/comment.
  const fifth = keys[4] ?? '';
  for (const n of [1, 2, 3, 4, 5]) await adapter.addComment(fifth, doc([paragraph(`note ${n}`)]));
  outcomes.paged = await adapter.getTicket(fifth, shape);
  outcomes.fieldNames = await adapter.fieldNames?.();
});

afterAll(async () => {
  await proxy?.stop();
  await sandbox?.stop();
});

const endpointsOf = (exchanges: Exchange[]) =>
  exchanges.map((e) => `${e.method} ${validator.templateOf(new URL(e.url, 'http://x').pathname) ?? '?'}`);

describe('jira contract: adapter and sandbox against the OpenAPI spec', () => {
  it('every request and every answer fits the spec', () => {
    const problems = proxy.exchanges.flatMap((exchange) => validator.check(exchange));
    expect(problems).toEqual([]);
  });

  it('the traffic covers every call the adapter and the seeder make, and their failure answers', () => {
    const seen = new Set(endpointsOf(proxy.exchanges));
    expect([...seen].sort()).toEqual([
      'GET /rest/api/3/field',
      'GET /rest/api/3/issue/{issueIdOrKey}',
      'GET /rest/api/3/issue/{issueIdOrKey}/comment',
      'GET /rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}',
      'GET /rest/api/3/myself',
      'GET /rest/api/3/search/jql',
      'POST /rest/api/3/issue',
      'POST /rest/api/3/issue/{issueIdOrKey}/comment',
      'POST /rest/api/3/issue/{issueIdOrKey}/transitions',
      'POST /rest/api/3/issueLink',
      'PUT /rest/api/3/issue/{issueIdOrKey}',
      'PUT /rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}',
    ]);
    const statuses = new Set(proxy.exchanges.map((e) => e.status));
    expect([...statuses].sort()).toEqual([200, 201, 204, 400, 404]);
    expect(outcomes).toMatchObject({ deleted: undefined, moved: 'transitioned', refused: 'refused' });
    expect(outcomes.claimRead).toEqual(bookkeeping(workflow.gate?.status ?? ''));
    expect(outcomes.noClaim).toBeUndefined();
  });

  it("reads the transitions' screen fields and sends the workflow's values: Jira's 400 without them", () => {
    const ticket = outcomes.withScreens as { transitions?: unknown[] };
    expect(ticket.transitions).toContainEqual({
      to: workflow.done,
      fields: [
        {
          key: 'resolution',
          name: 'Resolution',
          required: true,
          hasDefaultValue: false,
          allowedValues: ['Done'],
        },
      ],
    });
    const refused = proxy.exchanges.find((e) => e.status === 400);
    expect(refused?.responseBody).toEqual({
      errorMessages: [],
      errors: { resolution: 'Resolution is required.' },
    });
    expect(outcomes.noResolution).toMatchObject({
      status: 400,
      messages: ['resolution: Resolution is required.'],
    });
    expect(outcomes.resolved).toBe('transitioned');
    expect(sandbox.snapshot(keys[3] ?? '')?.status).toBe(workflow.done);
  });

  it('pages the comments when GET issue returns fewer than total, and reads field names', () => {
    const texts = (outcomes.paged as { comments?: { text: string }[] }).comments?.map((c) => c.text);
    expect(texts?.filter((text) => text.startsWith('note '))).toEqual([
      'note 1',
      'note 2',
      'note 3',
      'note 4',
      'note 5',
    ]);
    const pages = proxy.exchanges.filter((e) => e.method === 'GET' && /\/comment\?/.test(e.url));
    expect(pages.length).toBeGreaterThan(0);
    expect(outcomes.fieldNames).toMatchObject({ [HOST_FIELD.id]: HOST_FIELD.name, resolution: 'Resolution' });
  });

  it('the poller walks the search in pages (three for five tickets)', () => {
    const searches = proxy.exchanges.filter((e) => e.url.startsWith('/rest/api/3/search/jql'));
    expect(searches.length).toBe(6); // two polls, three pages each
    expect((outcomes.firstPoll as CycleReport).tickets).toBe(5);
  });

  it('reads its own writes: the second poll reconciles the issues it wrote and sees the move', () => {
    const second = proxy.exchanges.filter((e) => e.url.startsWith('/rest/api/3/search/jql')).slice(3);
    const reconciled = second.map((e) => new URL(e.url, 'http://x').searchParams.getAll('reconcileIssues'));
    // The same ids on every page of the walk, as the spec asks.
    expect(new Set(reconciled.map((ids) => ids.join(','))).size).toBe(1);
    expect(reconciled[0]?.length).toBeGreaterThan(0);
    const byStatus = (outcomes.secondPoll as CycleReport).byStatus;
    expect(byStatus[workflow.gate?.next ?? '']).toBe(1);
  });

  it('routes a manual step: the edit sets the assignee and the due date the issue then shows', () => {
    const edit = proxy.exchanges.find(
      (e) => e.method === 'PUT' && /\/issue\/[^/]+$/.test(e.url.split('?')[0] ?? ''),
    );
    expect(edit?.requestBody).toEqual({
      fields: { assignee: { accountId: ASSIGNEE }, duedate: '2026-01-05' },
    });
    expect(edit?.status).toBe(204);
    const fields = sandbox.snapshot(keys[2] ?? '')?.fields;
    expect(fields).toMatchObject({ assignee: { accountId: ASSIGNEE }, duedate: '2026-01-05' });
  });

  it('marks the bot comments internal for Service Management', () => {
    const comment = sandbox.snapshot(keys[2] ?? '')?.comments.at(-1);
    expect(comment).toBeDefined();
    const posted = proxy.exchanges.find((e) => e.method === 'POST' && e.url.endsWith('/comment'));
    expect(posted?.requestBody).toMatchObject({
      properties: [{ key: 'sd.public.comment', value: { internal: true } }],
    });
    expect(posted?.responseBody).toMatchObject({ jsdPublic: false });
  });
});

describe('jira contract: the validator itself', () => {
  const search = (query: string, status = 200, responseBody: unknown = { isLast: true, issues: [] }) => ({
    method: 'GET',
    url: `/rest/api/3/search/jql?${query}`,
    requestBody: undefined,
    status,
    responseBody,
  });

  it('accepts a well-formed search', () => {
    expect(validator.check(search('jql=project%3DHOT&maxResults=100&fields=status,labels'))).toEqual([]);
  });

  it('rejects an undeclared query parameter, a mistyped one, an undeclared status and an unknown key', () => {
    expect(validator.check(search('jql=x&startAt=0'))).toEqual([
      expect.stringContaining("query parameter 'startAt' is not declared"),
    ]);
    expect(validator.check(search('jql=x&maxResults=many'))).toEqual([
      expect.stringContaining('query maxResults must be integer'),
    ]);
    expect(validator.check(search('jql=x', 418, undefined))).toEqual([
      expect.stringContaining('answered 418'),
    ]);
    expect(validator.check(search('jql=x', 200, { isLast: true, issues: [], total: 3 }))).toEqual([
      expect.stringContaining('must NOT have additional properties'),
    ]);
  });

  it('rejects read-only data in a request body, and a field value shaped unlike Jira', () => {
    const comment = {
      method: 'POST',
      url: '/rest/api/3/issue/HOT-1/comment',
      requestBody: { body: doc([paragraph('x')]), id: '10000' },
      status: 201,
      responseBody: { id: '10000' },
    };
    expect(validator.check(comment)).toEqual([expect.stringContaining('request body/id')]);
    const issue = {
      method: 'GET',
      url: '/rest/api/3/issue/HOT-1?fields=status',
      requestBody: undefined,
      status: 200,
      responseBody: {
        id: '1',
        key: 'HOT-1',
        fields: { status: { name: 'Sync', statusCategory: { id: 'x' } } },
      },
    };
    expect(validator.check(issue)).toEqual([expect.stringContaining('fields.status/statusCategory/id')]);
  });
});

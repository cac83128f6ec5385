// The Jira adapter against nock: request shapes as Atlassian's spec describes them, response bodies
// shaped like the spec's examples (test/contract/jira-platform-v3.json), and every failure mode we retry.
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JiraRequestError, createJiraAdapter } from '../../src/jira/adapter.js';
import type { JiraAdapterOptions } from '../../src/jira/adapter.js';
import { codeBlock, doc, paragraph } from '../../src/jira/adf.js';
import { commentRef } from '../../src/jira/comment-ref.js';
import type { TicketShape } from '../../src/jira/port.js';
import { createLogger } from '../../src/logger.js';
import { useHttpMock } from '../support/http-mock.js';

const JIRA = 'https://runbot-test.atlassian.net';
const EMAIL = 'runbot@example.com';
const TOKEN = 'ATATT3xFfGF0-secret-token-value';
const shape: TicketShape = { inputFields: { host: 'customfield_10042', site: 'customfield_10043' } };
const SEARCH_FIELDS = [
  'status',
  'labels',
  'issuetype',
  'project',
  'issuelinks',
  'customfield_10042',
  'customfield_10043',
];

// Shapes copied from the spec's examples (StatusDetails, IssueTypeDetails, project, issuelinks, PageOfComments).
const status = (name: string, category: string) => ({
  description: '',
  iconUrl: `${JIRA}/images/icons/progress.gif`,
  id: '10000',
  name,
  self: `${JIRA}/rest/api/3/status/10000`,
  statusCategory: {
    colorName: 'yellow',
    id: 4,
    key: category,
    name: 'In Progress',
    self: `${JIRA}/rest/api/3/statuscategory/4`,
  },
});

function issueBean(
  key: string,
  overrides: Record<string, unknown> = {},
  properties?: Record<string, unknown>,
) {
  return {
    expand: '',
    id: '10002',
    key,
    self: `${JIRA}/rest/api/3/issue/10002`,
    fields: {
      status: status('Memtest', 'indeterminate'),
      labels: ['rma', 'dc-ams1'],
      issuetype: {
        avatarId: 1,
        description: 'A server back from RMA.',
        hierarchyLevel: 0,
        iconUrl: `${JIRA}/secure/viewavatar?size=xsmall&avatarId=10299&avatarType=issuetype`,
        id: '3',
        name: 'Server RMA',
        self: `${JIRA}/rest/api/3/issueType/3`,
        subtask: false,
      },
      project: {
        avatarUrls: { '16x16': `${JIRA}/secure/projectavatar?size=xsmall&pid=10000` },
        id: '10000',
        key: 'OPS',
        name: 'Operations',
        self: `${JIRA}/rest/api/3/project/OPS`,
        simplified: false,
        style: 'classic',
      },
      issuelinks: [
        {
          id: '10001',
          outwardIssue: {
            fields: { status: { iconUrl: `${JIRA}/images/icons/statuses/open.png`, name: 'Open' } },
            id: '10004',
            key: 'PR-2',
            self: `${JIRA}/rest/api/3/issue/PR-2`,
          },
          type: { id: '10000', inward: 'depends on', name: 'Dependent', outward: 'is depended by' },
        },
        {
          id: '10002',
          inwardIssue: {
            fields: { status: status('Done', 'done') },
            id: '10005',
            key: 'NET-7',
            self: `${JIRA}/rest/api/3/issue/NET-7`,
          },
          type: { id: '10001', inward: 'is blocked by', name: 'Blocks', outward: 'blocks' },
        },
      ],
      customfield_10042: 'srv-ams1-0042',
      customfield_10043: { self: `${JIRA}/rest/api/3/customFieldOption/10100`, value: 'ams1', id: '10100' },
      ...overrides,
    },
    ...(properties ? { properties } : {}),
  };
}

// Jira Service Management hides a comment from customers when this comment property says so.
const internal = { key: 'sd.public.comment', value: { internal: true } };

const bookkeeping = {
  status: 'Memtest',
  visit: 2,
  enteredAt: '2026-01-05T10:00:00.000Z',
  startedAt: '2026-01-05T10:01:00.000Z',
};

let sleeps: number[];
let logLines: Record<string, unknown>[];

function adapter(overrides: Partial<JiraAdapterOptions> = {}) {
  const logger = createLogger({
    level: 'debug',
    destination: { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  return createJiraAdapter({
    url: JIRA,
    email: EMAIL,
    apiToken: TOKEN,
    logger,
    sleep: (ms) => (sleeps.push(ms), Promise.resolve()),
    random: () => 0.5,
    ...overrides,
  });
}

const jira = () => nock(JIRA);
const searchQuery = (extra: Record<string, string> = {}) => ({
  jql: 'project = OPS',
  maxResults: '100',
  fields: SEARCH_FIELDS,
  properties: 'runbot',
  ...extra,
});
useHttpMock();

beforeEach(() => {
  sleeps = [];
  logLines = [];
});

// Registered after the harness's, so it runs before the harness's checks (vitest runs them as a stack).
afterEach(() => {
  vi.useRealTimers();
});

describe('jira adapter: transport', () => {
  it('goes through nock: the transport uses node:http and nock intercepts it, with basic auth', async () => {
    const basic = `Basic ${Buffer.from(`${EMAIL}:${TOKEN}`).toString('base64')}`;
    jira()
      .get('/rest/api/3/search/jql')
      .matchHeader('authorization', basic)
      .query(searchQuery())
      .reply(200, { isLast: true, issues: [] });
    const page = await adapter().searchPage('project = OPS', shape);
    expect(page).toEqual({ tickets: [], nextPageToken: undefined });
  });
});

describe('jira adapter: settings', () => {
  it('names a bad setting without echoing the token', () => {
    const build = () => adapter({ email: 'not-an-email' });
    expect(build).toThrow(/auth\.email.*Check JIRA_URL and JIRA_EMAIL/);
    expect(build).not.toThrow(TOKEN);
  });
});

describe('jira adapter: search', () => {
  it('walks three pages with nextPageToken until isLast', async () => {
    jira()
      .get('/rest/api/3/search/jql')
      .query(searchQuery())
      .reply(200, { isLast: false, nextPageToken: 'tok-2', issues: [issueBean('OPS-1')] });
    jira()
      .get('/rest/api/3/search/jql')
      .query(searchQuery({ nextPageToken: 'tok-2' }))
      .reply(200, { isLast: false, nextPageToken: 'tok-3', issues: [issueBean('OPS-2')] });
    jira()
      .get('/rest/api/3/search/jql')
      .query(searchQuery({ nextPageToken: 'tok-3' }))
      .reply(200, { isLast: true, issues: [issueBean('OPS-3')] });
    const jiraPort = adapter();
    const keys: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await jiraPort.searchPage('project = OPS', shape, token);
      keys.push(...page.tickets.map((t) => t.key));
      token = page.nextPageToken;
      pages += 1;
    } while (token !== undefined);
    expect(pages).toBe(3);
    expect(keys).toEqual(['OPS-1', 'OPS-2', 'OPS-3']);
  });

  it('maps a real-shaped IssueBean to a Ticket', async () => {
    const bean = issueBean('OPS-42', {}, { runbot: bookkeeping });
    jira()
      .get('/rest/api/3/search/jql')
      .query(searchQuery())
      .reply(200, { isLast: true, issues: [bean] });
    const { tickets } = await adapter().searchPage('project = OPS', shape);
    expect(tickets).toEqual([
      {
        key: 'OPS-42',
        status: 'Memtest',
        project: 'OPS',
        issueType: 'Server RMA',
        labels: ['rma', 'dc-ams1'],
        inputs: { host: 'srv-ams1-0042', site: 'ams1' },
        links: [
          // The spec's example omits statusCategory on a linked issue: left empty, never guessed "done".
          { relation: 'is depended by', key: 'PR-2', status: 'Open', statusCategory: '' },
          { relation: 'is blocked by', key: 'NET-7', status: 'Done', statusCategory: 'done' },
        ],
        bookkeeping,
      },
    ]);
  });

  it('reads text-like inputs from ADF, option lists and string lists, and leaves absent ones undefined', async () => {
    const adfHost = { type: 'doc', version: 1, content: [paragraph('srv-ams1-0099')] };
    const fourInputs: TicketShape = {
      inputFields: {
        host: 'customfield_1',
        racks: 'customfield_2',
        sites: 'customfield_3',
        note: 'customfield_4',
      },
    };
    const bean = issueBean('OPS-5', {
      customfield_1: adfHost,
      customfield_2: ['r12', 'r13'],
      customfield_3: [{ value: 'ams1' }, { value: 'fra2' }],
      customfield_4: null,
    });
    jira()
      .get('/rest/api/3/search/jql')
      .query({
        ...searchQuery(),
        fields: [
          ...SEARCH_FIELDS.slice(0, 5),
          'customfield_1',
          'customfield_2',
          'customfield_3',
          'customfield_4',
        ],
      })
      .reply(200, { isLast: true, issues: [bean] });
    const { tickets } = await adapter().searchPage('project = OPS', fourInputs);
    expect(tickets[0]?.inputs).toEqual({
      host: 'srv-ams1-0099',
      racks: 'r12,r13',
      sites: 'ams1,fra2',
      note: undefined,
    });
  });

  it('leaves a non-text input undefined instead of guessing, and says so in the log', async () => {
    const user = { accountId: '5b10a2844c20165700ede21g', displayName: 'Mia Krystof' };
    const bean = issueBean('OPS-6', { customfield_10042: user });
    jira()
      .get('/rest/api/3/search/jql')
      .query(searchQuery())
      .reply(200, { isLast: true, issues: [bean] });
    const { tickets } = await adapter().searchPage('project = OPS', shape);
    expect(tickets[0]?.inputs.host).toBeUndefined();
    expect(logLines).toContainEqual(
      expect.objectContaining({ ticket: 'OPS-6', input: 'host', field: 'customfield_10042', level: 30 }),
    );
  });

  it('treats invalid bookkeeping as absent and warns with the ticket key', async () => {
    const bean = issueBean('OPS-7', {}, { runbot: { status: 'Memtest', visit: 'two' } });
    jira()
      .get('/rest/api/3/search/jql')
      .query(searchQuery())
      .reply(200, { isLast: true, issues: [bean] });
    const { tickets } = await adapter().searchPage('project = OPS', shape);
    expect(tickets[0]?.bookkeeping).toBeUndefined();
    expect(logLines).toContainEqual(
      expect.objectContaining({ ticket: 'OPS-7', level: 40, msg: 'bookkeeping property invalid, ignored' }),
    );
  });
});

describe('jira adapter: read your own writes', () => {
  it('reconciles the issues it wrote into later searches, the same ids on every page', async () => {
    // The search teaches the adapter OPS-42's id (10002); the write marks it.
    jira()
      .get('/rest/api/3/search/jql')
      .query(searchQuery())
      .reply(200, { isLast: true, issues: [issueBean('OPS-42')] });
    jira().put('/rest/api/3/issue/OPS-42/properties/runbot').reply(200);
    jira()
      .get('/rest/api/3/search/jql')
      .query(searchQuery({ reconcileIssues: '10002' }))
      .reply(200, { isLast: false, nextPageToken: 'tok-2', issues: [] });
    jira()
      .get('/rest/api/3/search/jql')
      .query(searchQuery({ nextPageToken: 'tok-2', reconcileIssues: '10002' }))
      .reply(200, { isLast: true, issues: [issueBean('OPS-42')] });
    let now = Date.parse('2026-01-05T10:00:00.000Z');
    const jiraPort = adapter({ now: () => now });
    await jiraPort.searchPage('project = OPS', shape);
    await jiraPort.setBookkeeping('OPS-42', bookkeeping);
    const first = await jiraPort.searchPage('project = OPS', shape);
    await jiraPort.searchPage('project = OPS', shape, first.nextPageToken);
    // Minutes later, the index has long caught up: no more reconciling.
    now += 10 * 60_000;
    jira().get('/rest/api/3/search/jql').query(searchQuery()).reply(200, { isLast: true, issues: [] });
    await jiraPort.searchPage('project = OPS', shape);
  });
});

describe('jira adapter: get ticket', () => {
  const issuePath = '/rest/api/3/issue/OPS-42';
  const issueQuery = {
    fields: [...SEARCH_FIELDS, 'comment'],
    properties: 'runbot',
    expand: 'transitions.fields',
  };

  it('reads the ticket with its comments as plain text', async () => {
    const comments = {
      comments: [
        {
          author: { accountId: '5b10a2844c20165700ede21g', active: false, displayName: 'Mia Krystof' },
          body: doc([paragraph('runbot: Memtest visit 2'), paragraph('started')]),
          created: '2021-01-17T12:34:00.000+0000',
          id: '10000',
          self: `${JIRA}/rest/api/3/issue/10010/comment/10000`,
        },
      ],
      maxResults: 1,
      startAt: 0,
      total: 1,
    };
    jira()
      .get(issuePath)
      .query(issueQuery)
      .reply(200, issueBean('OPS-42', { comment: comments }, { runbot: bookkeeping }));
    const ticket = await adapter().getTicket('OPS-42', shape);
    expect(ticket?.comments).toEqual([{ id: '10000', text: 'runbot: Memtest visit 2\nstarted' }]);
    expect(ticket?.bookkeeping).toEqual(bookkeeping);
  });

  const commentOf = (id: string, text: string) => ({
    author: { accountId: '5b10a2844c20165700ede21g', active: true, displayName: 'runbot' },
    body: doc([paragraph(text)]),
    created: '2021-01-17T12:34:00.000+0000',
    id,
    self: `${JIRA}/rest/api/3/issue/10010/comment/${id}`,
  });

  it('pages the comments (GET …/comment from startAt) when the read returned fewer than total', async () => {
    const firstPage = {
      comments: [commentOf('1', 'first'), commentOf('2', 'second')],
      maxResults: 2,
      startAt: 0,
      total: 5,
    };
    jira()
      .get(issuePath)
      .query(issueQuery)
      .reply(200, issueBean('OPS-42', { comment: firstPage }));
    jira()
      .get(`${issuePath}/comment`)
      .query({ startAt: '2', maxResults: '1000' })
      .reply(200, {
        comments: [commentOf('3', 'third'), commentOf('4', 'fourth')],
        maxResults: 2,
        startAt: 2,
        total: 5,
      });
    jira()
      .get(`${issuePath}/comment`)
      .query({ startAt: '4', maxResults: '1000' })
      .reply(200, {
        comments: [commentOf('5', 'ref runbot/OPS-42/2/sync')],
        maxResults: 2,
        startAt: 4,
        total: 5,
      });
    const ticket = await adapter().getTicket('OPS-42', shape);
    expect(ticket?.comments?.map((c) => c.text)).toEqual([
      'first',
      'second',
      'third',
      'fourth',
      'ref runbot/OPS-42/2/sync',
    ]);
  });

  it('drops one malformed issue link and keeps the ticket and its other links', async () => {
    const bean = issueBean('OPS-42');
    const links = [
      { id: '10009', type: { name: 'Blocks' }, inwardIssue: { id: '1' } },
      ...bean.fields.issuelinks,
    ];
    jira()
      .get(issuePath)
      .query(issueQuery)
      .reply(200, { ...bean, fields: { ...bean.fields, issuelinks: links } });
    const ticket = await adapter().getTicket('OPS-42', shape);
    expect(ticket?.links.map((link) => link.key)).toEqual(['PR-2', 'NET-7']);
    expect(logLines).toContainEqual(
      expect.objectContaining({ msg: 'issue link malformed, ignored', index: 0 }),
    );
  });

  it("reads the transitions' screen fields (expand=transitions.fields) in the same GET", async () => {
    const transition = {
      id: '41',
      name: 'Close',
      to: status('Done', 'done'),
      hasScreen: true,
      isAvailable: true,
      fields: {
        resolution: {
          required: true,
          schema: { type: 'resolution', system: 'resolution' },
          name: 'Resolution',
          key: 'resolution',
          operations: ['set'],
          hasDefaultValue: false,
          allowedValues: [{ self: `${JIRA}/rest/api/3/resolution/1`, id: '1', name: 'Done' }],
        },
      },
    };
    jira()
      .get(issuePath)
      .query(issueQuery)
      .reply(200, { ...issueBean('OPS-42'), transitions: [transition] });
    const ticket = await adapter().getTicket('OPS-42', shape);
    expect(ticket?.transitions).toEqual([
      {
        to: 'Done',
        fields: [
          {
            key: 'resolution',
            name: 'Resolution',
            required: true,
            hasDefaultValue: false,
            allowedValues: ['Done'],
          },
        ],
      },
    ]);
  });

  it('reads field display names once per process (GET /rest/api/3/field)', async () => {
    jira()
      .get('/rest/api/3/field')
      .once()
      .reply(200, [
        {
          id: 'customfield_10042',
          key: 'customfield_10042',
          name: 'Service Hosts',
          custom: true,
          schema: { type: 'string' },
        },
        {
          id: 'summary',
          key: 'summary',
          name: 'Summary',
          custom: false,
          schema: { type: 'string', system: 'summary' },
        },
      ]);
    const jiraPort = adapter();
    expect(await jiraPort.fieldNames?.()).toEqual({ customfield_10042: 'Service Hosts', summary: 'Summary' });
    expect(await jiraPort.fieldNames?.()).toEqual({ customfield_10042: 'Service Hosts', summary: 'Summary' });
  });

  it('answers undefined for a deleted ticket (404), without retrying', async () => {
    jira()
      .get(issuePath)
      .query(issueQuery)
      .reply(404, {
        errorMessages: ['Issue does not exist or you do not have permission to see it.'],
        errors: {},
      });
    await expect(adapter().getTicket('OPS-42', shape)).resolves.toBeUndefined();
    expect(sleeps).toEqual([]);
  });

  it("a check round's light read asks for the fields and the bookkeeping only: no comments, no transitions", async () => {
    // nock matches the query exactly: `comment` among the fields or an `expand` would not match.
    jira()
      .get(issuePath)
      .query({ fields: SEARCH_FIELDS, properties: 'runbot' })
      .reply(200, issueBean('OPS-42', {}, { runbot: bookkeeping }));
    const ticket = await adapter().getTicketFields('OPS-42', shape);
    expect(ticket).toMatchObject({ key: 'OPS-42', status: 'Memtest', bookkeeping });
    expect(ticket?.comments).toBeUndefined();
    expect(ticket?.transitions).toBeUndefined();
  });

  it('the light read answers undefined for a deleted ticket (404)', async () => {
    jira()
      .get(issuePath)
      .query({ fields: SEARCH_FIELDS, properties: 'runbot' })
      .reply(404, { errorMessages: ['Issue does not exist or you do not have permission to see it.'] });
    await expect(adapter().getTicketFields('OPS-42', shape)).resolves.toBeUndefined();
  });

  it('reads no bookkeeping from a ticket without the property (404), and another status is an error', async () => {
    const property = `${issuePath}/properties/runbot`;
    jira()
      .get(property)
      .reply(404, { errorMessages: ['The property was not found.'] });
    await expect(adapter().getBookkeeping('OPS-42')).resolves.toBeUndefined();
    jira()
      .get(property)
      .reply(403, { errorMessages: ['You do not have permission to see it.'] });
    await expect(adapter().getBookkeeping('OPS-42')).rejects.toMatchObject({ status: 403 });
    expect(sleeps).toEqual([]);
  });
});

// transitionTo reads the status and the offered transitions in one call:
// GET /rest/api/3/issue/{key}?fields=status&expand=transitions (IssueBean.transitions, IssueTransition).
const transitionsPath = '/rest/api/3/issue/OPS-1/transitions';
const readTransitions = () =>
  jira()
    .get('/rest/api/3/issue/OPS-1')
    .query({ fields: ['status', 'project'], expand: 'transitions' });
const move = { from: 'Memtest', to: 'Sync' };

/** The IssueBean Jira answers with fields=status&expand=transitions: the ticket in `current`, offering `to`. */
function withTransitions(current: string, ...to: [string, string][]) {
  return {
    expand: 'renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations',
    id: '10002',
    key: 'OPS-1',
    self: `${JIRA}/rest/api/3/issue/10002`,
    transitions: to.map(([id, name]) => ({
      id,
      name: `To ${name}`,
      to: status(name, 'indeterminate'),
      hasScreen: false,
      isGlobal: false,
      isInitial: false,
      isAvailable: true,
      isConditional: false,
      looped: false,
    })),
    fields: { status: status(current, 'indeterminate') },
  };
}

describe('jira adapter: backoff', () => {
  it('waits what Retry-After says (seconds) after a 429', async () => {
    readTransitions().reply(429, { errorMessages: ['Rate limit exceeded.'] }, { 'Retry-After': '7' });
    readTransitions().reply(200, withTransitions('Memtest', ['31', 'Sync']));
    jira().post(transitionsPath).reply(204);
    await expect(adapter().transitionTo('OPS-1', move, {})).resolves.toBe('transitioned');
    expect(sleeps).toEqual([7000]);
  });

  it('waits until the Retry-After HTTP date after a 429', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-01-05T10:00:00.000Z'));
    readTransitions().reply(429, {}, { 'Retry-After': 'Mon, 05 Jan 2026 10:00:30 GMT' });
    readTransitions().reply(200, withTransitions('Memtest', ['31', 'Sync']));
    jira().post(transitionsPath).reply(204);
    await adapter().transitionTo('OPS-1', move, {});
    expect(sleeps).toEqual([30_000]);
  });

  it('does not retry before a Retry-After longer than the cap: fails at once and warns', async () => {
    readTransitions().reply(429, { errorMessages: ['Rate limit exceeded.'] }, { 'Retry-After': '3600' });
    const error = await adapter()
      .transitionTo('OPS-1', move, {})
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 429, attempts: 1 });
    expect(sleeps).toEqual([]);
    expect(logLines).toContainEqual(
      expect.objectContaining({ level: 40, retryAfterMs: 3_600_000, capMs: 60_000, ticket: 'OPS-1' }),
    );
  });

  it('honours a lower cap when one is configured: a longer Retry-After is not retried', async () => {
    jira().put('/rest/api/3/issue/OPS-1/properties/runbot').reply(429, {}, { 'Retry-After': '120' });
    await expect(
      adapter({ maxRetryAfterMs: 5_000 }).setBookkeeping('OPS-1', bookkeeping),
    ).rejects.toMatchObject({
      status: 429,
    });
    expect(sleeps).toEqual([]);
  });

  it('without Retry-After, waits a jittered exponential delay under the cap', async () => {
    jira()
      .put('/rest/api/3/issue/OPS-1/properties/runbot')
      .times(4)
      .reply(429, { errorMessages: ['Rate limit exceeded.'] });
    jira().put('/rest/api/3/issue/OPS-1/properties/runbot').reply(200);
    const values = [0.5, 0.5, 0.9999, 0.25];
    const random = () => values.shift() ?? 0;
    await adapter({ random }).setBookkeeping('OPS-1', bookkeeping);
    // ceilings 500, 1000, 2000, 4000 ms (base 500, doubling, cap 30 s) times the random draw
    expect(sleeps).toEqual([250, 500, 1999, 1000]);
  });

  it('retries 500, 502 and 503, then succeeds', async () => {
    readTransitions().reply(500, 'Internal Server Error');
    readTransitions().reply(502, '<html>Bad Gateway</html>');
    readTransitions().reply(503, { errorMessages: ['Service unavailable'] });
    readTransitions().reply(200, withTransitions('Memtest', ['31', 'Sync']));
    jira().post(transitionsPath).reply(204);
    await expect(adapter().transitionTo('OPS-1', move, {})).resolves.toBe('transitioned');
    expect(sleeps).toEqual([250, 500, 1000]);
  });

  it('retries a connection reset of an idempotent write, then succeeds', async () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    jira().put('/rest/api/3/issue/OPS-1/properties/runbot').replyWithError(reset);
    jira().put('/rest/api/3/issue/OPS-1/properties/runbot').reply(200);
    await adapter().setBookkeeping('OPS-1', {
      status: 'Sync',
      visit: 2,
      enteredAt: '2026-11-23T10:00:00.000Z',
    });
    expect(sleeps).toHaveLength(1);
  });

  it.each([
    ['a 502', (scope: nock.Interceptor) => scope.reply(502, { errorMessages: ['Bad gateway'] })],
    [
      'a connection reset',
      (scope: nock.Interceptor) =>
        scope.replyWithError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })),
    ],
  ])('does not post a comment again after %s: it may have landed', async (_name, answer) => {
    answer(jira().post('/rest/api/3/issue/OPS-1/comment'));
    await expect(adapter().addComment('OPS-1', doc([paragraph('hello')]))).rejects.toBeInstanceOf(
      JiraRequestError,
    );
    expect(sleeps).toHaveLength(0);
  });

  it('posts a comment again after a 429: Jira did nothing', async () => {
    jira().post('/rest/api/3/issue/OPS-1/comment').reply(429, {}, { 'Retry-After': '2' });
    jira().post('/rest/api/3/issue/OPS-1/comment').reply(201, { id: '10001' });
    await adapter().addComment('OPS-1', doc([paragraph('hello')]));
    expect(sleeps).toEqual([2000]);
  });

  it('posts a comment once when asked: a 429 is thrown, not waited out (the settled claim needs it)', async () => {
    jira().post('/rest/api/3/issue/OPS-1/comment').reply(429, {}, { 'Retry-After': '2' });
    const error = await adapter()
      .addComment('OPS-1', doc([paragraph('hello')]), { once: true })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JiraRequestError);
    expect((error as JiraRequestError).status).toBe(429);
    expect(sleeps).toHaveLength(0);
    expect(nock.isDone()).toBe(true);
  });

  it('gives up after five attempts with an error naming the endpoint and status', async () => {
    readTransitions()
      .times(5)
      .reply(503, { errorMessages: ['Service unavailable'] });
    const error = await adapter()
      .transitionTo('OPS-1', move, {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JiraRequestError);
    expect(error).toMatchObject({
      endpoint: 'GET /rest/api/3/issue/{issueIdOrKey}',
      status: 503,
      attempts: 5,
      messages: ['Service unavailable'],
    });
    expect(sleeps).toHaveLength(4);
  });

  it('does not retry a 400, and the error carries Jira errorMessages and field errors', async () => {
    jira()
      .post('/rest/api/3/issue/OPS-1/comment')
      .reply(400, {
        errorMessages: ['Comment body is not valid.'],
        errors: { comment: 'Comment body can not be empty!' },
      });
    const error = await adapter()
      .addComment('OPS-1', doc([paragraph('x')]))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JiraRequestError);
    const requestError = error as JiraRequestError;
    expect(requestError.status).toBe(400);
    expect(requestError.messages).toEqual([
      'Comment body is not valid.',
      'comment: Comment body can not be empty!',
    ]);
    expect(requestError.message).toContain(
      'POST /rest/api/3/issue/{issueIdOrKey}/comment for OPS-1 answered 400',
    );
    expect(requestError.message).toContain('Comment body is not valid.');
    expect(requestError.message).toContain('comment: Comment body can not be empty!');
    expect(sleeps).toEqual([]);
  });

  it('does not follow a redirect: the error names where it points and what to set', async () => {
    jira().post('/rest/api/3/issue/OPS-1/comment').reply(301, '<html>Moved</html>', {
      Location: 'https://renamed.atlassian.net/rest/api/3/issue/OPS-1/comment',
    });
    const error = await adapter()
      .addComment('OPS-1', doc([paragraph('x')]))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JiraRequestError);
    expect(error).toMatchObject({ status: 301, attempts: 1 });
    expect((error as Error).message).toContain(
      'answered 301: redirected to https://renamed.atlassian.net/rest/api/3/issue/OPS-1/comment',
    );
    expect((error as Error).message).toContain('set JIRA_URL');
  });

  it('never puts the API token in an error or a log line', async () => {
    readTransitions().reply(401, {
      errorMessages: ['Client must be authenticated to access this resource.'],
    });
    readTransitions().reply(503, 'down');
    readTransitions().reply(401, {});
    const jiraPort = adapter();
    const first = await jiraPort.transitionTo('OPS-1', move, {}).catch((e: unknown) => e);
    const second = await jiraPort.transitionTo('OPS-1', move, {}).catch((e: unknown) => e);
    expect((first as Error).message).toContain('JIRA_API_TOKEN');
    const everything = JSON.stringify(logLines) + String(first) + String(second) + JSON.stringify(first);
    expect(logLines.length).toBeGreaterThan(0);
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain(Buffer.from(`${EMAIL}:${TOKEN}`).toString('base64'));
  });
});

describe('jira adapter: transitions, comments, bookkeeping', () => {
  it('refuses quietly when the target status is not offered (a human moved the ticket), without a POST', async () => {
    readTransitions().reply(200, withTransitions('Memtest', ['11', 'Backlog'], ['21', 'Done']));
    const jiraPort = adapter();
    await expect(jiraPort.transitionTo('OPS-1', move, { comment: doc([paragraph('x')]) })).resolves.toBe(
      'refused',
    );
    expect(jiraPort.calls().map((c) => c.endpoint)).toEqual(['GET /rest/api/3/issue/{issueIdOrKey}']);
  });

  it('refuses without a POST when the ticket is no longer in the status the step ran in', async () => {
    // A person moved it from Memtest to Burn-in; Burn-in happens to offer a transition to Sync too.
    readTransitions().reply(200, withTransitions('Burn-in', ['31', 'Sync'], ['11', 'Backlog']));
    const jiraPort = adapter();
    await expect(
      jiraPort.transitionTo('OPS-1', move, { comment: doc([paragraph('x')]), bookkeeping }),
    ).resolves.toBe('refused');
    expect(jiraPort.calls().map((c) => c.endpoint)).toEqual(['GET /rest/api/3/issue/{issueIdOrKey}']);
    expect(logLines).toContainEqual(
      expect.objectContaining({ ticket: 'OPS-1', from: 'Memtest', to: 'Sync', level: 30 }),
    );
  });

  it('refuses when the transition to the target is offered but not available', async () => {
    const bean = withTransitions('Memtest', ['31', 'Sync']);
    readTransitions().reply(200, {
      ...bean,
      transitions: bean.transitions.map((t) => ({ ...t, isAvailable: false, isConditional: true })),
    });
    await expect(adapter().transitionTo('OPS-1', move, {})).resolves.toBe('refused');
  });

  it('moves, comments in ADF and writes bookkeeping in one POST', async () => {
    let posted: unknown;
    readTransitions().reply(200, withTransitions('Memtest', ['11', 'Backlog'], ['31', 'Sync']));
    jira()
      .post(transitionsPath, (body: unknown) => ((posted = body), true))
      .reply(204);
    const comment = doc([paragraph('Memtest passed, moving to Sync')]);
    await expect(adapter().transitionTo('OPS-1', move, { comment, bookkeeping })).resolves.toBe(
      'transitioned',
    );
    expect(posted).toEqual({
      transition: { id: '31' },
      update: { comment: [{ add: { body: comment, properties: [internal] } }] },
      properties: [{ key: 'runbot', value: bookkeeping }],
    });
  });

  it('sends the workflow values for the fields of the transition screen', async () => {
    let posted: unknown;
    readTransitions().reply(200, withTransitions('Memtest', ['31', 'Sync']));
    jira()
      .post(transitionsPath, (body: unknown) => ((posted = body), true))
      .reply(204);
    const fields = { resolution: { name: 'Done' } };
    await expect(adapter().transitionTo('OPS-1', move, { fields, bookkeeping })).resolves.toBe(
      'transitioned',
    );
    expect(posted).toEqual({
      transition: { id: '31' },
      fields: { resolution: { name: 'Done' } },
      properties: [{ key: 'runbot', value: bookkeeping }],
    });
  });

  it('says the bot account needs an agent seat when Jira answers 403 to its comment', async () => {
    jira()
      .post('/rest/api/3/issue/OPS-1/comment')
      .reply(403, {
        errorMessages: ['You do not have permission to create internal comments.'],
        errors: {},
      });
    const error = await adapter()
      .addComment('OPS-1', doc([paragraph('Action Required')]))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JiraRequestError);
    expect((error as Error).message).toContain('agent seat');
    expect(logLines).toContainEqual(
      expect.objectContaining({ msg: 'jira refused the comment: the bot account needs an agent seat' }),
    );
  });

  it('re-reads once after a 400 and refuses when the target is gone', async () => {
    readTransitions().reply(200, withTransitions('Memtest', ['31', 'Sync']));
    jira()
      .post(transitionsPath)
      .reply(400, { errorMessages: ["Transition id '31' is not valid for this issue."], errors: {} });
    readTransitions().reply(200, withTransitions('Memtest', ['11', 'Backlog']));
    await expect(adapter().transitionTo('OPS-1', move, {})).resolves.toBe('refused');
  });

  it('re-reads once after a 409 and refuses when a person moved the ticket meanwhile', async () => {
    readTransitions().reply(200, withTransitions('Memtest', ['31', 'Sync']));
    jira()
      .post(transitionsPath)
      .reply(409, { errorMessages: ['The issue was updated concurrently.'], errors: {} });
    readTransitions().reply(200, withTransitions('Burn-in', ['31', 'Sync']));
    await expect(adapter().transitionTo('OPS-1', move, {})).resolves.toBe('refused');
  });

  it('posts again with the fresh transition id when the re-read offers a different one', async () => {
    const posted: unknown[] = [];
    readTransitions().reply(200, withTransitions('Memtest', ['31', 'Sync']));
    jira()
      .post(transitionsPath, (body: unknown) => (posted.push(body), true))
      .reply(409, { errorMessages: ['The issue was updated concurrently.'], errors: {} });
    readTransitions().reply(200, withTransitions('Memtest', ['41', 'Sync']));
    jira()
      .post(transitionsPath, (body: unknown) => (posted.push(body), true))
      .reply(204);
    await expect(adapter().transitionTo('OPS-1', move, { bookkeeping })).resolves.toBe('transitioned');
    expect(posted).toEqual([
      { transition: { id: '31' }, properties: [{ key: 'runbot', value: bookkeeping }] },
      { transition: { id: '41' }, properties: [{ key: 'runbot', value: bookkeeping }] },
    ]);
  });

  it('reports a 400 when the target is still offered (Jira refused for another reason)', async () => {
    readTransitions()
      .times(2)
      .reply(200, withTransitions('Memtest', ['31', 'Sync']));
    jira()
      .post(transitionsPath)
      .reply(400, { errorMessages: [], errors: { resolution: 'Resolution is required.' } });
    await expect(adapter().transitionTo('OPS-1', move, {})).rejects.toThrow(
      'resolution: Resolution is required.',
    );
  });

  it('refuses when the ticket was deleted (404 on the read)', async () => {
    readTransitions().reply(404, { errorMessages: ['Issue does not exist'] });
    await expect(adapter().transitionTo('OPS-1', move, {})).resolves.toBe('refused');
  });

  it('fails loudly, without a POST, when the answer lacks the transitions (expand ignored)', async () => {
    readTransitions().reply(200, {
      id: '10002',
      key: 'OPS-1',
      fields: { status: status('Memtest', 'indeterminate') },
    });
    const error = await adapter()
      .transitionTo('OPS-1', move, {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JiraRequestError);
    expect(error).toMatchObject({ endpoint: 'GET /rest/api/3/issue/{issueIdOrKey}', issueKey: 'OPS-1' });
  });

  it('always posts comments as ADF to REST v3', async () => {
    let posted: unknown;
    jira()
      .post('/rest/api/3/issue/OPS-1/comment', (body: unknown) => ((posted = body), true))
      .reply(201, { id: '10001' });
    const body = doc([paragraph('Instructions for the on-site engineer')]);
    await adapter().addComment('OPS-1', body);
    expect(posted).toEqual({ body, properties: [internal] });
    expect(posted).toMatchObject({ body: { type: 'doc', version: 1 } });
  });

  it('posts public comments when internal comments are switched off', async () => {
    const posted: unknown[] = [];
    jira()
      .post('/rest/api/3/issue/OPS-1/comment', (body: unknown) => (posted.push(body), true))
      .reply(201, { id: '10001' });
    readTransitions().reply(200, withTransitions('Memtest', ['31', 'Sync']));
    jira()
      .post(transitionsPath, (body: unknown) => (posted.push(body), true))
      .reply(204);
    const body = doc([paragraph('Visible to the customer')]);
    const jiraPort = adapter({ internalComments: false });
    await jiraPort.addComment('OPS-1', body);
    await jiraPort.transitionTo('OPS-1', move, { comment: body });
    expect(posted).toEqual([
      { body },
      { transition: { id: '31' }, update: { comment: [{ add: { body } }] } },
    ]);
  });

  it('writes bookkeeping as the runbot issue property', async () => {
    let put: unknown;
    jira()
      .put('/rest/api/3/issue/OPS-1/properties/runbot', (body: unknown) => ((put = body), true))
      .reply(200);
    await adapter().setBookkeeping('OPS-1', bookkeeping);
    expect(put).toEqual(bookkeeping);
  });
});

describe('jira adapter: call counts', () => {
  it('counts every HTTP call by endpoint template and outcome', async () => {
    readTransitions().reply(429, {}, { 'Retry-After': '1' });
    readTransitions().reply(503, 'down');
    readTransitions().replyWithError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    // Minimal but valid: isAvailable is optional in IssueTransition.
    readTransitions().reply(200, {
      key: 'OPS-1',
      fields: { status: { name: 'Memtest' } },
      transitions: [{ id: '31', name: 'Sync', to: { name: 'Sync' } }],
    });
    jira().post(transitionsPath).reply(204);
    jira()
      .get('/rest/api/3/issue/OPS-2')
      .query(true)
      .reply(404, { errorMessages: ['Issue does not exist'] });
    const jiraPort = adapter();
    await jiraPort.transitionTo('OPS-1', move, {});
    await jiraPort.getTicket('OPS-2', shape);
    const counts = Object.fromEntries(jiraPort.calls().map((c) => [`${c.endpoint} ${c.outcome}`, c.count]));
    expect(counts).toEqual({
      'GET /rest/api/3/issue/{issueIdOrKey} 429': 1,
      'GET /rest/api/3/issue/{issueIdOrKey} 5xx': 1,
      'GET /rest/api/3/issue/{issueIdOrKey} network': 1,
      'GET /rest/api/3/issue/{issueIdOrKey} ok': 1,
      'POST /rest/api/3/issue/{issueIdOrKey}/transitions ok': 1,
      'GET /rest/api/3/issue/{issueIdOrKey} 4xx': 1,
    });
  });
});

// In a service project the worker's read tells the adapter the project's kind, so a step's report is
// posted before the move's read: a ticket a person deleted, or moved to where comments are closed,
// while the step ran refuses the post (4xx). That is the person's doing, as when the read comes
// first: the move is refused quietly, nothing is posted, nothing thrown.
describe('jira adapter: a report refused because the ticket changed while the step ran', () => {
  const report = doc([
    paragraph('Memtest passed, moving to Sync.'),
    codeBlock('Done.', 'text'),
    paragraph(commentRef('OPS-1', 2, 'memtest')),
  ]);
  const serviceDesk = () => {
    const bean = issueBean('OPS-1');
    return issueBean('OPS-1', { project: { ...bean.fields.project, projectTypeKey: 'service_desk' } });
  };
  const workerRead = () => jira().get('/rest/api/3/issue/OPS-1').query(true).reply(200, serviceDesk());
  const post = (status: number) =>
    jira()
      .post('/rest/api/3/issue/OPS-1/comment')
      .reply(status, { errorMessages: ['Issue does not exist or you do not have permission to see it.'] });

  it('deleted (404): refused, nothing posted, no retry', async () => {
    workerRead();
    post(404);
    readTransitions().reply(404, { errorMessages: ['Issue does not exist'] });
    const jiraPort = adapter();
    await jiraPort.getTicket('OPS-1', shape);
    await expect(jiraPort.transitionTo('OPS-1', move, { comment: report })).resolves.toBe('refused');
    expect(nock.pendingMocks()).toEqual([]);
    expect(sleeps).toEqual([]);
  });

  it('moved to a status without comments (403): refused; still in `from`, the 403 is the error', async () => {
    workerRead();
    post(403);
    readTransitions().reply(200, withTransitions('Closed'));
    const jiraPort = adapter();
    await jiraPort.getTicket('OPS-1', shape);
    await expect(jiraPort.transitionTo('OPS-1', move, { comment: report })).resolves.toBe('refused');
    workerRead();
    post(403);
    readTransitions().reply(200, withTransitions('Memtest', ['31', 'Sync']));
    await jiraPort.getTicket('OPS-1', shape);
    await expect(jiraPort.transitionTo('OPS-1', move, { comment: report })).rejects.toMatchObject({
      status: 403,
    });
  });
});

// Jira Cloud's rate-limit headers through the real adapter and transport, against nock: Retry-After on
// 503 as on 429, X-RateLimit-Reset without Retry-After, RateLimit-Reason deciding what is held, the
// process-wide hold after a 429, and pacing while X-RateLimit-NearLimit is set. The clock and the sleep
// are injected; nothing here waits for real time.
import nock from 'nock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createJiraAdapter, JiraRequestError } from '../../src/jira/adapter.js';
import type { JiraAdapterOptions } from '../../src/jira/adapter.js';
import type { TicketShape } from '../../src/jira/port.js';
import { createRateGate, holdKeyOf, readRateLimitHeaders } from '../../src/jira/rate-limit.js';
import { createLogger } from '../../src/logger.js';
import { useHttpMock } from '../support/http-mock.js';

const JIRA = 'https://runbot-test.atlassian.net';
const shape: TicketShape = { inputFields: {} };
const T0 = Date.parse('2026-03-02T10:00:00.000Z');
const SEARCH = '/rest/api/3/search/jql';
const ISSUE = '/rest/api/3/issue/OPS-1';
const bookkeeping = { status: 'Memtest', visit: 1, enteredAt: '2026-03-02T09:00:00.000Z' };
const issue = { id: '10001', key: 'OPS-1', fields: {} };

let clock: number;
let sleeps: number[];
let logLines: Record<string, unknown>[];

/** The adapter with a clock that moves only when it sleeps. */
function adapter(overrides: Partial<JiraAdapterOptions> = {}) {
  const logger = createLogger({
    level: 'debug',
    destination: { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  return createJiraAdapter({
    url: JIRA,
    email: 'runbot@example.com',
    apiToken: 'token-value-1234',
    logger,
    now: () => clock,
    sleep: (ms) => {
      sleeps.push(ms);
      clock += ms;
      return Promise.resolve();
    },
    random: () => 0.5,
    ...overrides,
  });
}

useHttpMock();

beforeEach(() => {
  clock = T0;
  sleeps = [];
  logLines = [];
});

const search = () => nock(JIRA).get(SEARCH).query(true);
const getIssue = () => nock(JIRA).get(ISSUE).query(true);

describe('rate-limit headers: reading them', () => {
  it('reads Retry-After, the reason, the budget, the reset time and NearLimit', () => {
    const headers = new Headers({
      'retry-after': '5',
      'ratelimit-reason': 'jira-burst-based',
      'x-ratelimit-limit': '100',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': '2026-03-02T10:00:30Z',
      'x-ratelimit-nearlimit': 'true',
    });
    expect(readRateLimitHeaders(429, headers, T0)).toEqual({
      status: 429,
      retryAfterMs: 5_000,
      reason: 'jira-burst-based',
      limit: 100,
      remaining: 0,
      resetAt: T0 + 30_000,
      nearLimit: true,
    });
  });

  it('takes the wait from X-RateLimit-Reset when a 429 has no Retry-After', () => {
    const headers = new Headers({ 'x-ratelimit-reset': '2026-03-02T10:00:12Z' });
    expect(readRateLimitHeaders(429, headers, T0)?.retryAfterMs).toBe(12_000);
  });

  it('is silent about an answer without rate-limit headers', () => {
    expect(
      readRateLimitHeaders(200, new Headers({ 'content-type': 'application/json' }), T0),
    ).toBeUndefined();
  });

  it('holds what the reason names: the endpoint, the issue, or everything', () => {
    const call = { endpoint: 'PUT /x', issueKey: 'OPS-1', write: true };
    expect(holdKeyOf('jira-burst-based', call)).toBe('PUT /x');
    expect(holdKeyOf(undefined, call)).toBe('PUT /x');
    expect(holdKeyOf('jira-per-issue-on-write', call)).toBe('issue OPS-1');
    expect(holdKeyOf('jira-quota-tenant-based', call)).toBe('*');
  });
});

describe('rate-limit headers: the adapter honours them', () => {
  it('waits a 503 Retry-After exactly, as on a 429', async () => {
    search().reply(503, { errorMessages: ['Service unavailable'] }, { 'Retry-After': '9' });
    search().reply(200, { isLast: true, issues: [] });
    await adapter().searchPage('project = OPS', shape);
    expect(sleeps).toEqual([9_000]);
  });

  it('waits until X-RateLimit-Reset after a 429 without Retry-After', async () => {
    search().reply(
      429,
      {},
      { 'X-RateLimit-Reset': '2026-03-02T10:00:04Z', 'RateLimit-Reason': 'jira-burst-based' },
    );
    search().reply(200, { isLast: true, issues: [] });
    await adapter().searchPage('project = OPS', shape);
    expect(sleeps).toEqual([4_000]);
    expect(logLines).toContainEqual(
      expect.objectContaining({ msg: 'jira rate-limit headers', reason: 'jira-burst-based', status: 429 }),
    );
  });

  it('after a 429, a second call to that endpoint waits out the same hold', async () => {
    const jira = adapter();
    search().reply(429, {}, { 'Retry-After': '3', 'RateLimit-Reason': 'jira-burst-based' });
    search().times(2).reply(200, { isLast: true, issues: [] });
    // The first call is refused; its retry waits 3 s. A call started after the refusal waits too.
    const first = jira.searchPage('project = OPS', shape);
    await new Promise<void>((resolve) => {
      const check = () => (sleeps.length > 0 ? resolve() : setImmediate(check));
      check();
    });
    clock = T0; // both are still before the hold's end
    const second = jira.searchPage('project = OPS', shape);
    await Promise.all([first, second]);
    expect(sleeps).toEqual([3_000, 3_000]);
  });

  it('does not hold another endpoint after a burst 429', async () => {
    const jira = adapter();
    search().reply(429, {}, { 'Retry-After': '3', 'RateLimit-Reason': 'jira-burst-based' });
    search().reply(200, { isLast: true, issues: [] });
    nock(JIRA).put(`${ISSUE}/properties/runbot`).reply(200);
    await jira.searchPage('project = OPS', shape);
    clock = T0;
    await jira.setBookkeeping('OPS-1', bookkeeping);
    expect(sleeps).toEqual([3_000]);
  });

  it('holds every endpoint after a quota 429', async () => {
    const jira = adapter();
    search().reply(429, {}, { 'Retry-After': '3', 'RateLimit-Reason': 'jira-quota-tenant-based' });
    search().reply(200, { isLast: true, issues: [] });
    nock(JIRA).put(`${ISSUE}/properties/runbot`).reply(200);
    await jira.searchPage('project = OPS', shape);
    clock = T0;
    await jira.setBookkeeping('OPS-1', bookkeeping);
    expect(sleeps).toEqual([3_000, 3_000]);
  });

  it('holds writes to one issue after a per-issue 429, not reads of it', async () => {
    const jira = adapter();
    nock(JIRA)
      .put(`${ISSUE}/properties/runbot`)
      .reply(429, {}, { 'Retry-After': '2', 'RateLimit-Reason': 'jira-per-issue-on-write' });
    nock(JIRA).put(`${ISSUE}/properties/runbot`).reply(200);
    getIssue().reply(200, issue);
    nock(JIRA).post(`${ISSUE}/comment`).reply(201, { id: '1' });
    await jira.setBookkeeping('OPS-1', bookkeeping);
    clock = T0;
    await jira.getTicket('OPS-1', shape);
    expect(sleeps).toEqual([2_000]);
    await jira.addComment('OPS-1', { type: 'doc', version: 1, content: [] });
    expect(sleeps).toEqual([2_000, 2_000]);
  });

  it('fails calls held beyond the cap at once, without calling Jira, naming the hold', async () => {
    const jira = adapter();
    search().reply(429, {}, { 'Retry-After': '600', 'RateLimit-Reason': 'jira-burst-based' });
    await expect(jira.searchPage('project = OPS', shape)).rejects.toMatchObject({ status: 429, attempts: 1 });
    const held = await jira.searchPage('project = OPS', shape).catch((e: unknown) => e);
    expect(held).toBeInstanceOf(JiraRequestError);
    expect((held as JiraRequestError).status).toBe(429);
    expect((held as Error).message).toContain('held until 2026-03-02T10:10:00.000Z');
    expect((held as Error).message).toContain('jira-burst-based');
    expect(sleeps).toEqual([]);
    expect(jira.calls()).toEqual([{ endpoint: 'GET /rest/api/3/search/jql', outcome: '429', count: 1 }]);
  });

  it('spaces calls to an endpoint while Jira says it is near its limit, and logs it', async () => {
    const jira = adapter();
    // 4 calls left until the reset 20 s away: one call every 5 s.
    search().reply(
      200,
      { isLast: true, issues: [] },
      {
        'X-RateLimit-NearLimit': 'true',
        'X-RateLimit-Remaining': '4',
        'X-RateLimit-Reset': '2026-03-02T10:00:20Z',
      },
    );
    search().times(2).reply(200, { isLast: true, issues: [] });
    await jira.searchPage('project = OPS', shape);
    await jira.searchPage('project = OPS', shape);
    await jira.searchPage('project = OPS', shape);
    expect(sleeps).toEqual([5_000, 5_000]);
    expect(logLines).toContainEqual(
      expect.objectContaining({ msg: 'jira rate-limit headers', nearLimit: true, remaining: 4 }),
    );
  });

  it('stops pacing once the reset time has passed', async () => {
    const jira = adapter();
    search().reply(
      200,
      { isLast: true, issues: [] },
      { 'X-RateLimit-NearLimit': 'true', 'X-RateLimit-Reset': '2026-03-02T10:00:02Z' },
    );
    search().reply(200, { isLast: true, issues: [] });
    await jira.searchPage('project = OPS', shape);
    clock = T0 + 3_000;
    await jira.searchPage('project = OPS', shape);
    expect(sleeps).toEqual([]);
  });
});

describe('rate-limit gate: shared by every caller of one process', () => {
  it('waits once per hold, so a sleep that returns early cannot spin', async () => {
    const waits: number[] = [];
    const gate = createRateGate({ now: () => T0, sleep: (ms) => (waits.push(ms), Promise.resolve()) });
    const call = { endpoint: 'GET /x', write: false };
    gate.observe(call, { status: 429, retryAfterMs: 1_000, nearLimit: false });
    await gate.pass(call);
    expect(waits).toEqual([1_000]);
    expect(gate.holds()).toEqual([{ key: 'GET /x', until: T0 + 1_000, reason: undefined }]);
  });
});

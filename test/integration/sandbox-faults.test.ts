// The sandbox's bad days and its consistency model, over HTTP: injected 429 (with Retry-After) and
// 5xx answers that change nothing, the real adapter riding them out, and a lagging search index that
// `reconcileIssues` sees through.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJiraAdapter } from '../../src/jira/index.js';
import { createLogger } from '../../src/logger.js';
import { JiraSandbox } from '../../src/sandbox/jira/index.js';
import type { SandboxProject } from '../../src/sandbox/jira/index.js';

const EMAIL = 'runbot@example.com';
const TOKEN = 'sandbox-token';
const auth = `Basic ${Buffer.from(`${EMAIL}:${TOKEN}`).toString('base64')}`;
const LAG_MS = 30_000;

const PROJECT: SandboxProject = {
  key: 'OPS',
  name: 'Operations',
  issueTypes: ['Task'],
  workflow: {
    initial: 'Open',
    statuses: [
      { name: 'Open', category: 'new' },
      { name: 'Sync', category: 'indeterminate' },
      { name: 'Done', category: 'done' },
    ],
    transitions: [
      { id: '11', name: 'Sync', from: ['Open'], to: 'Sync' },
      { id: '21', name: 'Finish', from: ['Sync'], to: 'Done' },
    ],
  },
};

let clock = Date.parse('2026-02-01T08:00:00.000Z');
let draws: number[] = [];
let sandbox: JiraSandbox;
let url: string;

const api = async (path: string, init: { method?: string; body?: unknown } = {}) => {
  const response = await fetch(`${url}/rest/api/3${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: auth, 'content-type': 'application/json', accept: 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? (JSON.parse(text) as unknown) : undefined,
  };
};

const createTask = async (summary: string) => {
  const created = await api('/issue', {
    method: 'POST',
    body: { fields: { project: { key: 'OPS' }, issuetype: { name: 'Task' }, summary } },
  });
  return created.body as { id: string; key: string };
};

const searchStatuses = async (extra = '') => {
  const found = await api(
    `/search/jql?jql=${encodeURIComponent('project = OPS ORDER BY key')}&fields=status${extra}`,
  );
  const issues = (found.body as { issues: { key: string; fields: { status: { name: string } } }[] }).issues;
  return Object.fromEntries(issues.map((issue) => [issue.key, issue.fields.status.name]));
};

beforeAll(async () => {
  sandbox = new JiraSandbox({
    projects: [PROJECT],
    credentials: { email: EMAIL, apiToken: TOKEN },
    searchLagMs: LAG_MS,
    now: () => clock,
    // Pinned draws: each request takes the next; 0.99 when none are queued (no fault).
    random: () => draws.shift() ?? 0.99,
  });
  url = await sandbox.start(0);
});

afterAll(async () => {
  await sandbox?.stop();
});

describe('jira sandbox: injected faults', () => {
  it('answers 429 with Retry-After and an ErrorCollection, and the write does not happen', async () => {
    const { key } = await createTask('rate limited');
    sandbox.setFaults({ rateLimitRate: 0.5, retryAfterSeconds: 7 });
    draws = [0.1];
    const refused = await api(`/issue/${key}/properties/runbot`, { method: 'PUT', body: { visit: 1 } });
    sandbox.setFaults({});
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('7');
    expect(refused.body).toEqual({ errorMessages: ['Rate limit exceeded.'], errors: {} });
    expect(sandbox.snapshot(key)?.properties).toEqual({});
  });

  it('answers 500, 502 or 503 at the configured rate, changing nothing', async () => {
    const { key } = await createTask('outage');
    sandbox.setFaults({ serverErrorRate: 0.5 });
    draws = [0.1, 0, 0.1, 0.5, 0.1, 0.9, 0.7];
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      statuses.push(
        (await api(`/issue/${key}/transitions`, { method: 'POST', body: { transition: { id: '11' } } }))
          .status,
      );
      if (statuses.at(-1) === 204) break;
    }
    sandbox.setFaults({});
    expect(statuses).toEqual([500, 502, 503, 204]);
    expect(sandbox.snapshot(key)?.status).toBe('Sync');
  });

  it('the adapter rides out 429s and 5xx, waiting what Retry-After says', async () => {
    const { key } = await createTask('adapter');
    const sleeps: number[] = [];
    const adapter = createJiraAdapter({
      url,
      email: EMAIL,
      apiToken: TOKEN,
      logger: createLogger({ level: 'silent' }),
      sleep: (ms) => (sleeps.push(ms), Promise.resolve()),
      random: () => 0.5,
    });
    sandbox.setFaults({ rateLimitRate: 0.5, retryAfterSeconds: 3, serverErrorRate: 0.5 });
    // 429; then no 429 but a 503; then clean.
    draws = [0.1, 0.9, 0.1, 0.9, 0.9, 0.9];
    await adapter.setBookkeeping(key, { status: 'Open', visit: 1, enteredAt: new Date(clock).toISOString() });
    sandbox.setFaults({});
    expect(sleeps).toEqual([3000, 500]);
    expect(sandbox.snapshot(key)?.properties.runbot).toMatchObject({ visit: 1 });
    const counts = Object.fromEntries(adapter.calls().map((c) => [c.outcome, c.count]));
    expect(counts).toEqual({ '429': 1, '5xx': 1, ok: 1 });
  });
});

describe('jira sandbox: search lag and reconcileIssues', () => {
  it('a lagging search shows the old status; reconciling the issue id shows the write', async () => {
    const { id, key } = await createTask('lagging');
    clock += LAG_MS + 1000;
    expect((await searchStatuses())[key]).toBe('Open');
    await api(`/issue/${key}/transitions`, { method: 'POST', body: { transition: { id: '11' } } });
    expect((await searchStatuses())[key]).toBe('Open');
    expect((await searchStatuses(`&reconcileIssues=${id}`))[key]).toBe('Sync');
    clock += LAG_MS + 1000;
    expect((await searchStatuses())[key]).toBe('Sync');
  });

  it('refuses more than 50 reconcile ids, and ids that are not numbers', async () => {
    const many = Array.from({ length: 51 }, (_, i) => `reconcileIssues=${10000 + i}`).join('&');
    const tooMany = await api(`/search/jql?jql=project%3DOPS&${many}`);
    expect(tooMany.status).toBe(400);
    const notIds = await api('/search/jql?jql=project%3DOPS&reconcileIssues=OPS-1');
    expect(notIds.status).toBe(400);
    expect(notIds.body).toMatchObject({ errorMessages: [expect.stringContaining('reconcileIssues')] });
  });
});

// Jira's rate-limit headers from the sandbox, through the real adapter: after one 429 every caller in
// the process holds off that endpoint until Retry-After has passed (counted at the sandbox while they
// wait); a 503's Retry-After is honoured like a 429's; NearLimit spaces the calls. Sleeps are held by
// the test and released by it: nothing waits for real time, and nothing is asserted about time.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createJiraAdapter } from '../../src/jira/index.js';
import { createLogger } from '../../src/logger.js';
import { JiraSandbox } from '../../src/sandbox/jira/index.js';
import type { SandboxProject } from '../../src/sandbox/jira/index.js';
import { until } from '../support/poll.js';

const EMAIL = 'runbot@example.com';
const TOKEN = 'sandbox-token';
const SEARCH = 'GET /rest/api/3/search/jql';
const PROJECT: SandboxProject = {
  key: 'OPS',
  name: 'Operations',
  issueTypes: ['Task'],
  workflow: {
    initial: 'Open',
    statuses: [{ name: 'Open', category: 'new' }],
    transitions: [],
  },
};
const shape = { inputFields: {} };

let sandbox: JiraSandbox;
let url: string;
let draws: number[];
let clock: number;
let held: { ms: number; release: () => void }[];
let logLines: Record<string, unknown>[];

function adapter() {
  return createJiraAdapter({
    url,
    email: EMAIL,
    apiToken: TOKEN,
    logger: createLogger({
      level: 'info',
      destination: {
        write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>),
      },
    }),
    now: () => clock,
    // Every wait is held until the test releases it.
    sleep: (ms) => new Promise<void>((resolve) => held.push({ ms, release: resolve })),
  });
}

const searches = () => sandbox.requestCounts()[SEARCH] ?? 0;

beforeAll(async () => {
  sandbox = new JiraSandbox({
    projects: [PROJECT],
    credentials: { email: EMAIL, apiToken: TOKEN },
    now: () => clock,
    random: () => draws.shift() ?? 0.99,
  });
  url = await sandbox.start(0);
});

afterAll(async () => {
  await sandbox.stop();
});

beforeEach(() => {
  draws = [];
  held = [];
  logLines = [];
  clock = Date.parse('2026-05-04T12:00:00.000Z');
  sandbox.setFaults({});
});

describe('jira rate limits: the sandbox sends the headers, the adapter acts on them', () => {
  it('after one 429, two concurrent callers both wait for Retry-After before calling that endpoint', async () => {
    sandbox.setFaults({ rateLimitRate: 0.5, retryAfterSeconds: 2 });
    draws = [0]; // the first request is refused, later ones pass
    const before = searches();
    const jira = adapter();
    const first = jira.searchPage('project = OPS', shape);
    await until('the first caller waiting out its 429', () => held.length === 1);
    const second = jira.searchPage('project = OPS', shape);
    await until('the second caller held by the gate', () => held.length === 2);
    // Both wait the whole Retry-After; Jira has seen only the refused call.
    expect(held.map((wait) => wait.ms)).toEqual([2_000, 2_000]);
    expect(searches() - before).toBe(1);
    for (const wait of held) wait.release();
    await Promise.all([first, second]);
    expect(searches() - before).toBe(3);
    expect(logLines).toContainEqual(
      expect.objectContaining({
        msg: 'jira rate-limit headers',
        status: 429,
        reason: 'jira-burst-based',
        remaining: 0,
        retryAfterMs: 2_000,
      }),
    );
  });

  it("waits a 503's Retry-After like a 429's", async () => {
    sandbox.setFaults({ serverErrorRate: 0.5, serverErrorRetryAfterSeconds: 7 });
    draws = [0, 0.9]; // a server error, and of the three kinds the 503
    const search = adapter().searchPage('project = OPS', shape);
    await until('the caller waiting out the 503', () => held.length === 1);
    expect(held[0]?.ms).toBe(7_000);
    held[0]?.release();
    await search;
  });

  it('spaces calls while Jira says the endpoint is near its limit', async () => {
    // Three calls left until the reset a minute away: one call every 20 s.
    sandbox.setFaults({ nearLimitRemaining: 3 });
    const jira = adapter();
    await jira.searchPage('project = OPS', shape);
    const next = jira.searchPage('project = OPS', shape);
    await until('the next call paced', () => held.length === 1);
    expect(held[0]?.ms).toBe(20_000);
    held[0]?.release();
    await next;
  });
});

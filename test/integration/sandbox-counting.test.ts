// Counting: a poll cycle with nothing to do costs exactly one search call per page, nothing else —
// measured both by the adapter's own call counts and by the sandbox's count of what arrived.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shippedRestore } from '../support/definitions.js';
import type { Definitions, Workflow } from '../../src/definitions/index.js';
import { createJiraAdapter } from '../../src/jira/index.js';
import { createLogger } from '../../src/logger.js';
import { DEMO_CREDENTIALS } from '../../src/sandbox/demo-env.js';
import { JiraSandbox } from '../../src/sandbox/jira/index.js';
import { HOST_FIELD, RMA_PROJECT, restoreProject } from '../../src/sandbox/rma-jira.js';
import { jiraSeeder } from '../../src/sandbox/seed.js';
import { pollOnce } from '../../src/service/poller.js';
import type { StepJob } from '../../src/queue/index.js';

const PAGE_MAX = 3;
const TICKETS = 7; // pages of 3, 3 and 1
const logger = createLogger({ level: 'silent' });

let sandbox: JiraSandbox;
let url: string;
let definitions: Definitions;
let workflow: Workflow;

beforeAll(async () => {
  ({ definitions, workflow } = await shippedRestore());
  sandbox = new JiraSandbox({
    projects: [restoreProject(workflow), RMA_PROJECT],
    customFields: [HOST_FIELD],
    credentials: DEMO_CREDENTIALS,
    searchPageMax: PAGE_MAX,
  });
  url = await sandbox.start(0);
  // Every restore ticket waits for an RMA that is still open: the gate keeps them all where they are.
  const seeder = jiraSeeder(url, DEMO_CREDENTIALS);
  for (let i = 1; i <= TICKETS; i += 1)
    await seeder.restoreTicket(workflow, `container-102-0${i}.dev2.internal`);
});

afterAll(async () => {
  await sandbox?.stop();
});

const searchCalls = () => sandbox.requestCounts()['GET /rest/api/3/search/jql'] ?? 0;

describe('jira call counting: an idle poll cycle', () => {
  it('makes exactly one search call per page and no other call', async () => {
    const adapter = createJiraAdapter({ url, ...DEMO_CREDENTIALS, logger });
    const enqueued: StepJob[] = [];
    const before = sandbox.requestCounts();
    const report = await pollOnce({
      jira: adapter,
      definitions,
      enqueue: (job) => (enqueued.push(job), Promise.resolve()),
      now: () => new Date(),
      timeScale: 1,
      logger,
    });
    expect(report.tickets).toBe(TICKETS);
    expect(report.decisions.nothing).toBe(TICKETS);
    expect(enqueued).toEqual([]);
    const pages = Math.ceil(TICKETS / PAGE_MAX);
    expect(adapter.calls()).toEqual([
      { endpoint: 'GET /rest/api/3/search/jql', outcome: 'ok', count: pages },
    ]);
    const after = sandbox.requestCounts();
    const arrived = Object.fromEntries(
      Object.entries(after)
        .map(([endpoint, count]) => [endpoint, count - (before[endpoint] ?? 0)] as const)
        .filter(([, count]) => count > 0),
    );
    expect(arrived).toEqual({ 'GET /rest/api/3/search/jql': pages });
  });

  it('a second idle cycle costs the same again: no hidden reads, no writes', async () => {
    const adapter = createJiraAdapter({ url, ...DEMO_CREDENTIALS, logger });
    const deps = {
      jira: adapter,
      definitions,
      enqueue: () => Promise.resolve(),
      now: () => new Date(),
      timeScale: 1,
      logger,
    };
    const start = searchCalls();
    await pollOnce(deps);
    await pollOnce(deps);
    const pages = Math.ceil(TICKETS / PAGE_MAX);
    expect(searchCalls() - start).toBe(2 * pages);
    expect(adapter.calls()).toEqual([
      { endpoint: 'GET /rest/api/3/search/jql', outcome: 'ok', count: 2 * pages },
    ]);
  });
});

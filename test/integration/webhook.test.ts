// POST /webhook/jira on a running service, against the Jira sandbox and a real redis-server: signed
// deliveries only, a flood of them turned into one poll cycle (counted at the sandbox, not timed), and
// the issue a verified delivery names reconciled into that cycle's search despite the index lag.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signatureOf } from '../../src/http/webhook.js';
import { createLogger } from '../../src/logger.js';
import { DEMO_CREDENTIALS, startDemoEnvironment, type DemoEnvironment } from '../../src/sandbox/demo-env.js';
import { startService, type RunningService } from '../../src/service/app.js';
import { until } from '../support/poll.js';

const SECRET = 'whsec-integration-8b1f';
const SEARCH = 'GET /rest/api/3/search/jql';
const FLOOD = 40;

describe('webhook: signed, coalesced, reconciled', () => {
  let env: DemoEnvironment;
  let service: RunningService;
  let ticket: { key: string; id: string };
  const logLines: string[] = [];

  const searches = () => env.sandbox.requestCounts()[SEARCH] ?? 0;
  const metric = async (line: RegExp) => {
    const body = await (await fetch(`http://127.0.0.1:${service.httpPort}/metrics`)).text();
    return line.exec(body)?.[1];
  };
  const cyclesOk = async () =>
    Number((await metric(/^runbot_poll_cycles_total\{outcome="ok"\} (\d+)$/m)) ?? 0);
  const deliver = (body: string, headers: Record<string, string>) =>
    fetch(`http://127.0.0.1:${service.httpPort}/webhook/jira`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });

  beforeAll(async () => {
    // The search index lags an hour: only reconcileIssues can show the seeded ticket to a search.
    env = await startDemoEnvironment({ jira: { searchLagMs: 3_600_000 } });
    const { key } = await env.seedTicket('container-201-01.dev2.internal', { rmaDone: false });
    const auth = Buffer.from(`${DEMO_CREDENTIALS.email}:${DEMO_CREDENTIALS.apiToken}`).toString('base64');
    const read = await fetch(`${env.config.JIRA_URL}/rest/api/3/issue/${key}?fields=status`, {
      headers: { authorization: `Basic ${auth}` },
    });
    ticket = { key, id: ((await read.json()) as { id: string }).id };
    const logger = createLogger({
      level: 'warn',
      destination: { write: (line: string) => void logLines.push(line) },
    });
    service = await startService(
      {
        ...env.config,
        RUNBOT_WEBHOOK_SECRET: SECRET,
        // Neither the schedule nor a second early cycle can come within this test.
        RUNBOT_POLL_INTERVAL: 3600,
        RUNBOT_WEBHOOK_MIN_INTERVAL: 3600,
      },
      { poll: true, work: false, http: true },
      logger,
    );
    await until('the first poll cycle', async () => (await cyclesOk()) >= 1);
  });
  afterAll(async () => {
    await service?.stop();
    await env?.stop();
  });

  it('does not warn about a missing secret when one is set', () => {
    expect(logLines.join('\n')).not.toContain('RUNBOT_WEBHOOK_SECRET not set');
  });

  it('warns once at start when no secret is set', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'warn',
      destination: { write: (line: string) => void lines.push(line) },
    });
    const unsigned = await startService(
      { ...env.config, RUNBOT_QUEUE_PREFIX: 'unsigned' },
      { poll: false, work: false, http: true },
      logger,
    );
    await unsigned.stop();
    expect(lines.filter((line) => line.includes('RUNBOT_WEBHOOK_SECRET not set'))).toHaveLength(1);
  });

  it('refuses unsigned and wrongly signed deliveries with 401, and polls for none of them', async () => {
    const body = JSON.stringify({
      webhookEvent: 'jira:issue_updated',
      issue: { id: ticket.id, key: ticket.key },
    });
    const before = searches();
    expect((await deliver(body, {})).status).toBe(401);
    expect((await deliver(body, { 'X-Hub-Signature': signatureOf('not-the-secret', body) })).status).toBe(
      401,
    );
    expect(await cyclesOk()).toBe(1);
    expect(searches()).toBe(before);
  });

  it('turns a flood of signed deliveries into one early cycle, which sees the named ticket at once', async () => {
    const perCycle = searches();
    expect(perCycle).toBeGreaterThan(0);
    // The first cycle did not see the ticket: the search lags behind its creation.
    expect(await metric(/^runbot_tickets\{status="Waiting for RMA"\} (\d+)$/m)).toBeUndefined();
    const body = JSON.stringify({
      webhookEvent: 'jira:issue_updated',
      issue: { id: ticket.id, key: ticket.key, fields: {} },
    });
    const answers = await Promise.all(
      Array.from({ length: FLOOD }, (_, i) =>
        deliver(body, {
          'X-Hub-Signature': signatureOf(SECRET, body),
          'X-Atlassian-Webhook-Identifier': `flood-${i}`,
        }).then((response) => response.status),
      ),
    );
    expect(answers).toEqual(Array.from({ length: FLOOD }, () => 202));
    await until('the early cycle', async () => (await cyclesOk()) >= 2);
    // 40 deliveries, one early cycle: the rest wait for the minimum interval (an hour) and then share one.
    expect(await cyclesOk()).toBe(2);
    expect(searches()).toBe(2 * perCycle);
    // The verified delivery named the issue: reconcileIssues showed it despite the hour of lag.
    expect(await metric(/^runbot_tickets\{status="Waiting for RMA"\} (\d+)$/m)).toBe('1');
  });
});

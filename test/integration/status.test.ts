// `runbot status` against a Jira (the sandbox): tickets per status in runbook order, the steps
// running (from the bookkeeping property) and the tickets waiting for a person, read through search.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CREDENTIALS, startDemoEnvironment, type DemoEnvironment } from '../../src/sandbox/demo-env.js';
import { statusCommand } from '../../src/cli/status.js';

describe('runbot status', () => {
  let env: DemoEnvironment;
  const keys: string[] = [];

  beforeAll(async () => {
    env = await startDemoEnvironment();
    for (const host of ['web-1.dev2.internal', 'web-2.dev2.internal', 'web-3.dev2.internal'])
      keys.push((await env.seedTicket(host, { rmaDone: false })).key);
  });
  afterAll(() => env?.stop());

  it('prints tickets per status, the running step and who waits for a person', async () => {
    const [, running, failed] = keys as [string, string, string];
    env.sandbox.moveAsHuman(running, 'Memcheck');
    const since = new Date(Date.now() - 5_000).toISOString();
    const auth = Buffer.from(`${DEMO_CREDENTIALS.email}:${DEMO_CREDENTIALS.apiToken}`).toString('base64');
    const put = await fetch(`${env.config.JIRA_URL}/rest/api/3/issue/${running}/properties/runbot`, {
      method: 'PUT',
      headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        status: 'Memcheck',
        visit: 2,
        enteredAt: since,
        running: { step: 'memcheck-start', since },
      }),
    });
    expect(put.ok).toBe(true);
    env.sandbox.moveAsHuman(failed, 'Actionable');

    const lines: string[] = [];
    expect(await statusCommand(env.config, (line) => lines.push(line))).toBe(0);

    expect(lines[0]).toBe('rma-restore · HOT RMA Restore · 3 tickets');
    const rows = lines.slice(1, -3).map((line) => line.trim().split(/\s{2,}|\s(?=\d|·)/)[0]);
    // Every status but Done, in the order a ticket walks them, then the human queue.
    expect(rows).toEqual([
      'Waiting for RMA',
      'Memcheck',
      'Memcheck Running',
      'Sync',
      'Blacklist Removal',
      'Second Sync',
      'Enable Alerting',
      'Rebalance',
      'Actionable',
    ]);
    expect(lines).toContain('  Waiting for RMA      1 █');
    expect(lines).toContain('  Memcheck Running     ·');
    expect(lines.at(-3)).toMatch(
      new RegExp(`^  running \\(1\\): ${running} memcheck-start \\d+(\\.\\d)? s$`),
    );
    expect(lines.at(-2)).toBe(`  waiting for a person (1): ${failed} in Actionable`);
    // Redis (the demo environment's) holds no open breaker.
    expect(lines.at(-1)).toBe('breakers: all closed');
  });

  it('says what Jira answered and what to check when it refuses the credentials, exit 1', async () => {
    const lines: string[] = [];
    const config = { ...env.config, JIRA_API_TOKEN: 'revoked-token-3b9d' };
    expect(await statusCommand(config, (line) => lines.push(line))).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^runbot status: Jira GET \/rest\/api\/3\/search\/jql answered 401/);
    expect(lines[0]).toContain('Check JIRA_EMAIL and JIRA_API_TOKEN');
    expect(lines[0]).not.toContain('revoked-token-3b9d');
  });
});
